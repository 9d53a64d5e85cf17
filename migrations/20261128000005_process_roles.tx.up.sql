-- One login-less role per process, each with only what that process does.
-- The API and the worker log in as members of these (starter migrate
-- creates the logins ces_api and ces_worker when their passwords are
-- set); only migrations run as the owner of the tables. Neither role may
-- UPDATE, DELETE or TRUNCATE history, alter a table or its triggers, or
-- set session_replication_role. Roles are cluster-wide: created once,
-- granted in every database that migrates.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ces_api_role') THEN
        CREATE ROLE ces_api_role NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created concurrently by another database's migration
END
$$;

--bun:split

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ces_worker_role') THEN
        CREATE ROLE ces_worker_role NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

--bun:split

-- The API reads rates, quarantines, suspensions and the audit log, and
-- appends conversions and the admin console's sessions, actions and
-- decisions; it deletes only expired or ended sessions.
GRANT SELECT ON exchange_rates, rate_series, rate_quarantines, audit_seals, admin_users, bun_migrations TO ces_api_role;

--bun:split

GRANT SELECT, INSERT ON conversion_audits, admin_actions, rate_quarantine_decisions, pair_suspensions TO ces_api_role;

--bun:split

GRANT SELECT, INSERT, DELETE ON admin_sessions TO ces_api_role;

--bun:split

-- The worker appends rates (rate_series is kept by a trigger running as
-- the inserting role), quarantines and seals, and reads what the gate and
-- the sealer need.
GRANT SELECT, INSERT ON exchange_rates, rate_series, rate_quarantines, audit_seals TO ces_worker_role;

--bun:split

GRANT SELECT ON conversion_audits, rate_quarantine_decisions, pair_suspensions, bun_migrations TO ces_worker_role;
