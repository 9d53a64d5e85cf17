-- API keys: clients authenticate with "Authorization: Bearer <key>". Only
-- the SHA-256 of a key is stored; the key is shown once, when made. Keys
-- are never changed or removed: a revocation is a row of its own.
CREATE TABLE api_keys (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix      text        NOT NULL,
    key_sha256  char(64)    NOT NULL UNIQUE,
    scopes      text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL
);

--bun:split

CREATE TABLE api_key_revocations (
    key_id     uuid        PRIMARY KEY REFERENCES api_keys (id),
    revoked_at timestamptz NOT NULL DEFAULT now(),
    revoked_by text        NOT NULL,
    reason     text        NOT NULL
);

--bun:split

CREATE TRIGGER api_keys_refuse_update_delete BEFORE UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER api_keys_refuse_truncate BEFORE TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER api_key_revocations_refuse_update_delete BEFORE UPDATE OR DELETE ON api_key_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER api_key_revocations_refuse_truncate BEFORE TRUNCATE ON api_key_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- Each conversion names the key that asked for it (inside its hashed
-- content), and an Idempotency-Key is scoped to that key: two clients
-- may both send "order-1". Rows from before keys share one scope (NULL).
ALTER TABLE conversion_audits ADD COLUMN api_key_id uuid REFERENCES api_keys (id);

--bun:split

DROP INDEX conversion_audits_idempotency_key;

--bun:split

CREATE UNIQUE INDEX conversion_audits_client_idempotency_key ON conversion_audits (api_key_id, idempotency_key)
    NULLS NOT DISTINCT WHERE idempotency_key IS NOT NULL;

--bun:split

CREATE INDEX conversion_audits_api_key_id ON conversion_audits (api_key_id, seq);

--bun:split

-- The API authenticates clients and its admin console makes and revokes
-- keys; the worker has no business with them.
GRANT SELECT, INSERT ON api_keys, api_key_revocations TO ces_api_role;
