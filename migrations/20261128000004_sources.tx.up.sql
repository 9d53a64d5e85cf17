-- Several providers at once: a catalogue of the rate series stored (so the
-- rate in force at any instant is one index probe per series, whatever the
-- length of history), the quality gate's quarantines with the decisions
-- operators take on them, and pair suspensions. All insert-only.

-- rate_series lists every (provider, base, quote) exchange_rates holds,
-- kept by trigger, so readers never scan history to find the series.
CREATE TABLE rate_series (
    provider text    NOT NULL,
    base     char(3) NOT NULL,
    quote    char(3) NOT NULL,
    PRIMARY KEY (provider, base, quote)
);

--bun:split

CREATE INDEX rate_series_quote ON rate_series (quote, base);

--bun:split

INSERT INTO rate_series (provider, base, quote)
SELECT DISTINCT provider, base, quote FROM exchange_rates;

--bun:split

CREATE FUNCTION ces_note_series() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_series (provider, base, quote)
    SELECT DISTINCT provider, base, quote FROM new_rows
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER exchange_rates_note_series
    AFTER INSERT ON exchange_rates
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ces_note_series();

--bun:split

-- rate_quarantines holds back a stored rate that moved more than the jump
-- limit against the reference it names. A quarantined rate is priced only
-- once a 'released' decision exists for it.
CREATE TABLE rate_quarantines (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rate_id           bigint      NOT NULL UNIQUE REFERENCES exchange_rates (id),
    against           text        NOT NULL CHECK (against IN ('previous', 'provider')),
    reference_rate_id bigint      NOT NULL REFERENCES exchange_rates (id),
    reference_value   numeric     NOT NULL CHECK (reference_value > 0 AND reference_value < 'Infinity'),
    change            numeric     NOT NULL CHECK (change >= 0 AND change < 'Infinity'),
    jump_limit        numeric     NOT NULL CHECK (jump_limit > 0 AND jump_limit < 'Infinity'),
    created_at        timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE TABLE rate_quarantine_decisions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarantine_id bigint      NOT NULL UNIQUE REFERENCES rate_quarantines (id),
    decision      text        NOT NULL CHECK (decision IN ('released', 'rejected')),
    reason        text        NOT NULL CHECK (length(btrim(reason)) > 0),
    username      text        NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- pair_suspensions: the newest row of a pair (either way round) says
-- whether it is suspended.
CREATE TABLE pair_suspensions (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base      char(3)     NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote     char(3)     NOT NULL CHECK (quote ~ '^[A-Z]{3}$'),
    suspended boolean     NOT NULL,
    reason    text        NOT NULL CHECK (length(btrim(reason)) > 0),
    username  text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pair_suspensions_not_self CHECK (base <> quote)
);

--bun:split

CREATE INDEX pair_suspensions_pair ON pair_suspensions (base, quote, id DESC);

--bun:split

CREATE TRIGGER rate_quarantines_refuse_update_delete
    BEFORE UPDATE OR DELETE ON rate_quarantines
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER rate_quarantines_refuse_truncate
    BEFORE TRUNCATE ON rate_quarantines
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER rate_quarantine_decisions_refuse_update_delete
    BEFORE UPDATE OR DELETE ON rate_quarantine_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER rate_quarantine_decisions_refuse_truncate
    BEFORE TRUNCATE ON rate_quarantine_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER pair_suspensions_refuse_update_delete
    BEFORE UPDATE OR DELETE ON pair_suspensions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER pair_suspensions_refuse_truncate
    BEFORE TRUNCATE ON pair_suspensions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- The receipt names the source-policy rule that priced it (NULL on
-- receipts written before the rule existed).
ALTER TABLE conversion_audits ADD COLUMN pricing_rule text;

--bun:split

GRANT SELECT, INSERT ON rate_series, rate_quarantines, rate_quarantine_decisions, pair_suspensions TO ces_app;
