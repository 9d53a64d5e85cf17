-- Readers keep historical rates in memory (the API's history cache), so
-- every change to what a past instant prices is announced on the
-- PostgreSQL channel ces_rates_changed, in the changing transaction: a
-- NOTIFY is delivered at commit, in commit order, and never for a rolled
-- back change, so a listener cannot miss a backfill or see one that did
-- not happen. The payload is "<provider> <unix microseconds>": what is
-- priced at or after that instant of that provider's rates may differ.

CREATE FUNCTION ces_announce_rates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ces_rates_changed',
        provider || ' ' || (extract(epoch FROM min(as_of)) * 1000000)::bigint)
    FROM new_rows GROUP BY provider;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER exchange_rates_announce
    AFTER INSERT ON exchange_rates
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ces_announce_rates();

--bun:split

-- A quarantine holds a stored row back and a decision on it may release
-- it: both change what the row's instant prices from then on.
CREATE FUNCTION ces_announce_quarantines() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ces_rates_changed',
        r.provider || ' ' || (extract(epoch FROM min(r.as_of)) * 1000000)::bigint)
    FROM new_rows n JOIN exchange_rates r ON r.id = n.rate_id
    GROUP BY r.provider;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER rate_quarantines_announce
    AFTER INSERT ON rate_quarantines
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ces_announce_quarantines();

--bun:split

CREATE FUNCTION ces_announce_decisions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ces_rates_changed',
        r.provider || ' ' || (extract(epoch FROM min(r.as_of)) * 1000000)::bigint)
    FROM new_rows n
    JOIN rate_quarantines q ON q.id = n.quarantine_id
    JOIN exchange_rates r ON r.id = q.rate_id
    GROUP BY r.provider;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER rate_quarantine_decisions_announce
    AFTER INSERT ON rate_quarantine_decisions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ces_announce_decisions();
