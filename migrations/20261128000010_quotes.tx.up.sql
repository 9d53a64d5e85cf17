-- A quote locks a price for a short time (QUOTE_TTL): the figures a
-- conversion with its id executes at, exactly, once. Quotes are insert-only
-- like every other record of a price.
CREATE TABLE conversion_quotes (
    id               uuid        PRIMARY KEY,
    api_key_id       uuid        NOT NULL REFERENCES api_keys (id),
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    amount           numeric     NOT NULL CHECK (amount > 0),
    from_currency    char(3)     NOT NULL,
    to_currency      char(3)     NOT NULL,
    mid_rate         numeric     NOT NULL CHECK (mid_rate > 0),
    margin           numeric     NOT NULL CHECK (margin >= 0 AND margin < 1),
    applied_rate     numeric     NOT NULL CHECK (applied_rate > 0),
    converted_amount numeric     NOT NULL CHECK (converted_amount > 0),
    rounding         text        NOT NULL,
    minor_units      smallint    NOT NULL CHECK (minor_units BETWEEN 0 AND 18),
    rate_precision   smallint    NOT NULL CHECK (rate_precision BETWEEN 1 AND 60),
    provider         text        NOT NULL,
    pricing_rule     text        NOT NULL,
    as_of            timestamptz NOT NULL,
    leg1_rate_id     bigint      NOT NULL REFERENCES exchange_rates (id),
    leg2_rate_id     bigint      REFERENCES exchange_rates (id),
    hash             char(64)    NOT NULL, -- SHA-256 of audit.QuoteCanonical
    CONSTRAINT conversion_quotes_ttl CHECK (expires_at > created_at)
);

--bun:split

CREATE TRIGGER conversion_quotes_refuse_update_delete BEFORE UPDATE OR DELETE ON conversion_quotes
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER conversion_quotes_refuse_truncate BEFORE TRUNCATE ON conversion_quotes
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- The receipt of a quoted conversion links its quote; one receipt per
-- quote, whatever the number of concurrent attempts.
ALTER TABLE conversion_audits ADD COLUMN quote_id uuid REFERENCES conversion_quotes (id);

--bun:split

CREATE UNIQUE INDEX conversion_audits_quote_id ON conversion_audits (quote_id) WHERE quote_id IS NOT NULL;

--bun:split

GRANT SELECT, INSERT ON conversion_quotes TO ces_api_role;

--bun:split

GRANT SELECT ON conversion_quotes TO ces_worker_role;
