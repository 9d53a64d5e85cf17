-- Console roles. A console user is a viewer (reads every page), an
-- operator (also acts on ingestion, quarantines, pairs and verification)
-- or an admin (also mints and revokes API keys and manages users), and
-- may be disabled.
--
-- A user's role and whether it is disabled are not columns of admin_users
-- that the API could rewrite: they are the newest row of this insert-only
-- history, like pair_suspensions. The API process (ces_api_role) may only
-- append to it, never UPDATE, DELETE or TRUNCATE it, so every change of
-- power ever made, by whom, when and why, stays readable, and a change
-- that skipped the history cannot take effect: sign-in and every request
-- read the newest row. A user without any row (made by SQL by hand, or
-- by an older binary) has no role and cannot sign in.
CREATE TABLE admin_user_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES admin_users (id),
    at         timestamptz NOT NULL DEFAULT now(),
    role       text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled   boolean     NOT NULL,
    changed_by text        NOT NULL,
    reason     text        NOT NULL DEFAULT ''
);

--bun:split

-- The newest row of one user, read on every console request.
CREATE INDEX admin_user_changes_user_id ON admin_user_changes (user_id, id DESC);

--bun:split

CREATE TRIGGER admin_user_changes_refuse_update_delete
    BEFORE UPDATE OR DELETE ON admin_user_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

CREATE TRIGGER admin_user_changes_refuse_truncate
    BEFORE TRUNCATE ON admin_user_changes
    FOR EACH STATEMENT EXECUTE FUNCTION ces_refuse_change();

--bun:split

-- Everyone who could sign in before had every power: they stay admins, so
-- nothing changes for current operators until an admin says otherwise.
INSERT INTO admin_user_changes (user_id, role, disabled, changed_by, reason)
SELECT id, 'admin', false, 'migration 20261128000012', 'console roles introduced; existing users keep every power they had'
FROM admin_users ORDER BY id;

--bun:split

-- The console's admins create users (INSERT on admin_users: a username and
-- a password hash, never changed afterwards, so no UPDATE) and append
-- their changes. Disabling a user deletes its sessions, which the API
-- already may (admin_sessions).
GRANT INSERT ON admin_users TO ces_api_role;

--bun:split

GRANT SELECT, INSERT ON admin_user_changes TO ces_api_role;
