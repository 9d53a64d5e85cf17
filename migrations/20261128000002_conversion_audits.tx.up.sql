-- conversion_audits is the financial record of every conversion. A row is
-- written in the transaction that decides the receipt, references the exact
-- exchange_rates rows it priced from, keeps copies of every value used, and
-- carries the SHA-256 of its canonical content (see fx.Receipt.Hash).
CREATE TABLE conversion_audits (
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               uuid        PRIMARY KEY,
    created_at       timestamptz NOT NULL,
    amount           numeric     NOT NULL CHECK (amount > 0 AND amount < 'Infinity'),
    from_currency    char(3)     NOT NULL CHECK (from_currency ~ '^[A-Z]{3}$'),
    to_currency      char(3)     NOT NULL CHECK (to_currency ~ '^[A-Z]{3}$'),
    mid_rate         numeric     NOT NULL CHECK (mid_rate > 0 AND mid_rate < 'Infinity'),
    margin           numeric     NOT NULL CHECK (margin >= 0 AND margin < 1),
    applied_rate     numeric     NOT NULL CHECK (applied_rate > 0 AND applied_rate < 'Infinity'),
    converted_amount numeric     NOT NULL CHECK (converted_amount >= 0 AND converted_amount < 'Infinity'),
    rounding         text        NOT NULL,
    provider         text        NOT NULL,
    as_of            timestamptz NOT NULL,
    -- The rate rows used: none when from = to, one for a direct or inverse
    -- rate, two for a cross rate (numerator first).
    leg1_rate_id     bigint      REFERENCES exchange_rates (id),
    leg2_rate_id     bigint      REFERENCES exchange_rates (id),
    request_id       text        NOT NULL,
    idempotency_key  text        CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_sha256   char(64)    NOT NULL,
    client_address   text        NOT NULL,
    hash             char(64)    NOT NULL,
    -- The inserting transaction, forced by trigger: seals cover windows of
    -- completed transactions, so a slow writer can never fall between seals.
    xact_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT conversion_audits_legs CHECK (leg2_rate_id IS NULL OR leg1_rate_id IS NOT NULL)
);

--bun:split

CREATE UNIQUE INDEX conversion_audits_idempotency_key ON conversion_audits (idempotency_key) WHERE idempotency_key IS NOT NULL;

--bun:split

CREATE INDEX conversion_audits_xact_id ON conversion_audits (xact_id);

--bun:split

CREATE INDEX conversion_audits_created_at ON conversion_audits (created_at);

--bun:split

CREATE FUNCTION ces_stamp_xact() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.xact_id := pg_current_xact_id();
    RETURN NEW;
END
$$;

--bun:split

CREATE TRIGGER conversion_audits_stamp_xact
    BEFORE INSERT ON conversion_audits
    FOR EACH ROW EXECUTE FUNCTION ces_stamp_xact();

--bun:split

CREATE TRIGGER conversion_audits_refuse_update_delete
    BEFORE UPDATE OR DELETE ON conversion_audits
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER conversion_audits_refuse_truncate
    BEFORE TRUNCATE ON conversion_audits
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- audit_seals chains the audit log: seal n covers the audit rows written by
-- transactions with xact_id in [seal n-1's xmin, seal n's xmin), all of
-- which had completed when seal n was taken, and hashes them together with
-- seal n-1's hash. Writers never wait on the chain; the sealer does the work.
CREATE TABLE audit_seals (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at     timestamptz NOT NULL,
    xmin_from      xid8        NOT NULL,
    xmin_to        xid8        NOT NULL,
    row_count      bigint      NOT NULL CHECK (row_count > 0),
    first_seq      bigint      NOT NULL,
    last_seq       bigint      NOT NULL,
    rows_sha256    char(64)    NOT NULL,
    prev_seal_hash char(64)    NOT NULL UNIQUE, -- one successor per seal: no forks
    seal_hash      char(64)    NOT NULL UNIQUE,
    workflow_id    text        NOT NULL,
    run_id         text        NOT NULL,
    CONSTRAINT audit_seals_window CHECK (xmin_from < xmin_to)
);

--bun:split

CREATE TRIGGER audit_seals_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER audit_seals_refuse_truncate
    BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- ces_app is the least-privilege role the API and worker should run as:
-- it may read and append, never change or remove. Roles are cluster-wide,
-- so it is created once and granted in every database that migrates.
-- Run as it with: CREATE ROLE ces_api LOGIN PASSWORD '…' IN ROLE ces_app;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ces_app') THEN
        CREATE ROLE ces_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created concurrently by another database's migration
END
$$;

--bun:split

GRANT SELECT, INSERT ON exchange_rates, conversion_audits, audit_seals TO ces_app;

--bun:split

GRANT SELECT ON bun_migrations TO ces_app;
