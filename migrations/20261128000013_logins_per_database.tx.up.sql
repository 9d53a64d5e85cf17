-- ces_app is withdrawn. Migration 2 made it, a login-less role with
-- SELECT and INSERT on the history tables (migrations 3 and 4 added the
-- admin tables and the rate series), and its comment told operators to run
-- the API and the worker through it ("CREATE ROLE ces_api LOGIN … IN ROLE
-- ces_app"). That advice was wrong: nothing CES runs uses ces_app, it is
-- one role for the whole PostgreSQL server, so a login made that way could
-- read and append in every CES database there, and it is broader than
-- either process needs. The API and the worker log in as the logins
-- `starter migrate` makes for this database alone, members of ces_api_role
-- and ces_worker_role (migration 5; see the README, "The audit trail").
-- Applied migrations are history and are never edited, so the correction
-- lives here and in the README.
--
-- First, this database grants ces_app nothing: every privilege on every
-- table, sequence and function, on the schemas and on the database itself
-- is revoked. This part must succeed.
DO $$
DECLARE
    r record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ces_app') THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT DISTINCT c.oid::regclass AS rel, c.relkind = 'S' AS seq
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE a.grantee = 'ces_app'::regrole
    LOOP
        EXECUTE format('REVOKE ALL ON %s %s FROM ces_app', CASE WHEN r.seq THEN 'SEQUENCE' ELSE 'TABLE' END, r.rel);
    END LOOP;
    FOR r IN
        SELECT DISTINCT p.oid::regprocedure AS fn
        FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
        WHERE a.grantee = 'ces_app'::regrole
    LOOP
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM ces_app', r.fn);
    END LOOP;
    FOR r IN
        SELECT DISTINCT n.nspname
        FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
        WHERE a.grantee = 'ces_app'::regrole
    LOOP
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM ces_app', r.nspname);
    END LOOP;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM ces_app', current_database());
END
$$;

--bun:split

-- Then the role itself goes, when nothing else on the server refers to
-- it. Roles are server-wide: another database that has not applied this
-- migration yet (an older CES, or one migrating right now) still grants
-- ces_app its privileges, and PostgreSQL refuses DROP ROLE while it does
-- (dependent_objects_still_exist). The same refusal comes when the
-- migrating login may not drop roles, or when another database's
-- migration drops it at the same moment. None of these is a failure:
-- dropping is tidying, and ces_app already holds nothing in this database.
-- It is dropped by the last CES database on the server to apply this
-- migration. (A migration 2 of another database that loses the race, its
-- grant finding the role just dropped, is run again by migrations.Run.)
DO $$
BEGIN
    DROP ROLE IF EXISTS ces_app;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'ces_app is kept for now (%): it holds nothing in this database', SQLERRM;
END
$$;
