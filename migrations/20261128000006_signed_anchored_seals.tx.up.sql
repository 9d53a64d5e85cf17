-- Seals are signed with an Ed25519 key the database never sees (the
-- worker's AUDIT_SIGNING_KEY_FILE). key_id names the public key, so a
-- rotated key still verifies the seals it signed. Seals made before
-- signing existed keep both columns NULL; the verifier refuses an
-- unsigned seal after the first signed one.
ALTER TABLE audit_seals ADD COLUMN key_id text, ADD COLUMN signature text;

--bun:split

ALTER TABLE audit_seals ADD CONSTRAINT audit_seals_signed_or_not CHECK ((key_id IS NULL) = (signature IS NULL));

--bun:split

-- audit_signing_keys publishes every public key that has signed seals
-- (GET /api/v1/audit/public-key). It is not what verification trusts:
-- that is the anchor's copy or a key the auditor pinned.
CREATE TABLE audit_signing_keys (
    key_id     text        PRIMARY KEY,
    public_key text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE TRIGGER audit_signing_keys_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER audit_signing_keys_refuse_truncate
    BEFORE TRUNCATE ON audit_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- audit_verifications records every run of verify-audit: what it covered
-- and what it found. The newest clean run is where an incremental run
-- starts (if its seal is unchanged and matches the anchor).
CREATE TABLE audit_verifications (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verified_at timestamptz NOT NULL,
    full_run    boolean     NOT NULL,
    seal_id     bigint,
    seal_hash   char(64),
    seals       bigint      NOT NULL,
    rows_checked bigint     NOT NULL,
    unsealed    bigint      NOT NULL,
    problem     text        NOT NULL,
    started_by  text        NOT NULL
);

--bun:split

CREATE TRIGGER audit_verifications_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_verifications
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER audit_verifications_refuse_truncate
    BEFORE TRUNCATE ON audit_verifications
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

GRANT SELECT ON audit_signing_keys, audit_verifications TO ces_api_role;

--bun:split

GRANT SELECT, INSERT ON audit_signing_keys, audit_verifications TO ces_worker_role;
