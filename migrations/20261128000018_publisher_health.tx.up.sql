-- publisher_health records every check of a publisher's health (the
-- publisher-health schedule, workflow CheckPublisherHealth): at checked_at,
-- how many publications its cadence made due in the window from
-- window_start, how many of them CES does not have, the as_of of its newest
-- publication then, and the verdict (policy.HealthRule). The API answers
-- each publisher's newest check and treats a silent publisher's rates as
-- stale. Insert-only like every other record CES keeps: a check repeated
-- by a retry at the same instant inserts nothing.
CREATE TABLE publisher_health (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider     text        NOT NULL,
    checked_at   timestamptz NOT NULL,
    status       text        NOT NULL CHECK (status IN ('healthy', 'late', 'silent')),
    window_start timestamptz NOT NULL,
    expected     integer     NOT NULL CHECK (expected >= 0),
    missed       integer     NOT NULL CHECK (missed >= 0 AND missed <= expected),
    newest_as_of timestamptz,
    workflow_id  text        NOT NULL,
    CONSTRAINT publisher_health_once UNIQUE (provider, checked_at)
);

--bun:split

CREATE INDEX publisher_health_newest ON publisher_health (provider, checked_at DESC);

--bun:split

CREATE TRIGGER publisher_health_refuse_update_delete BEFORE UPDATE OR DELETE ON publisher_health
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER publisher_health_refuse_truncate BEFORE TRUNCATE ON publisher_health
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

GRANT SELECT, INSERT ON publisher_health TO ces_worker_role;

--bun:split

GRANT SELECT ON publisher_health TO ces_api_role;
