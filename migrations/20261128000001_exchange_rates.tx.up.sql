-- exchange_rates is the history of every rate CES has ingested. Rows are
-- only ever inserted: a retried or repeated ingestion hits the natural key
-- and inserts nothing, and the triggers below refuse any change to the past.
CREATE TABLE exchange_rates (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider       text        NOT NULL CHECK (provider <> ''),
    base           char(3)     NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote          char(3)     NOT NULL CHECK (quote ~ '^[A-Z]{3}$'),
    -- Unconstrained NUMERIC keeps exactly the digits the provider published.
    -- In PostgreSQL NaN sorts above every number, so 'rate > 0' alone would
    -- admit NaN; the upper bound keeps out NaN and Infinity.
    rate           numeric     NOT NULL CHECK (rate > 0 AND rate < 'Infinity'),
    -- as_of is the provider's publication time; fetched_at is when CES read it.
    as_of          timestamptz NOT NULL,
    fetched_at     timestamptz NOT NULL,
    workflow_id    text        NOT NULL,
    run_id         text        NOT NULL,
    payload_sha256 char(64)    NOT NULL,
    CONSTRAINT exchange_rates_natural_key UNIQUE (provider, base, quote, as_of),
    CONSTRAINT exchange_rates_not_self CHECK (base <> quote)
);

--bun:split

-- The natural key index also serves "newest row with as_of <= t" for one
-- pair with a backward index scan, whatever the length of the history.
-- This one finds the newest publication of a provider quickly.
CREATE INDEX exchange_rates_provider_as_of ON exchange_rates (provider, as_of DESC);

--bun:split

CREATE FUNCTION ces_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ces: % on % is refused: this table is append-only history', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Rates and audit rows are immutable; ingest a new row instead.';
END
$$;

--bun:split

-- Statement-level triggers refuse the statement itself, so even an UPDATE or
-- DELETE that matches no row fails loudly instead of "succeeding".
CREATE TRIGGER exchange_rates_refuse_update_delete
    BEFORE UPDATE OR DELETE ON exchange_rates
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER exchange_rates_refuse_truncate
    BEFORE TRUNCATE ON exchange_rates
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();
