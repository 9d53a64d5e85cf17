-- Admin console users. Passwords are bcrypt hashes.
CREATE TABLE admin_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- Signed-in sessions. The cookie holds a random token; only its SHA-256 is
-- stored, so a read of this table cannot be replayed as a cookie.
CREATE TABLE admin_sessions (
    token_sha256 char(64)    PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES admin_users (id),
    csrf_token   char(64)    NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

--bun:split

-- Every admin action (trigger, pause, resume, verify), who, when and why.
-- Insert-only, like the other audit tables.
CREATE TABLE admin_actions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    username   text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    outcome    text        NOT NULL,
    client     text        NOT NULL
);

--bun:split

CREATE TRIGGER admin_actions_refuse_update_delete
    BEFORE UPDATE OR DELETE ON admin_actions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER admin_actions_refuse_truncate
    BEFORE TRUNCATE ON admin_actions
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- Keyset pagination of the rates page: newest first, whatever the filter.
CREATE INDEX exchange_rates_as_of_id ON exchange_rates (as_of DESC, id DESC);

--bun:split

GRANT SELECT, INSERT ON admin_actions TO ces_app;

--bun:split

GRANT SELECT, INSERT, DELETE ON admin_sessions TO ces_app;

--bun:split

GRANT SELECT ON admin_users TO ces_app;
