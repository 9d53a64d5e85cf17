package store_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"ces/internal/audit"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestProcessLoginsCannotRewriteHistory connects with the API's and the
// worker's logins, made the way starter migrate makes them, and checks
// that each may do its work and none of what would let it change history
// or switch the guards off.
func TestProcessLoginsCannotRewriteHistory(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DatabaseURL(t)
	owner, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	st := store.New(owner)
	testenv.SeedReceipts(t, st, 1)
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)
	// Logins of this test's own: roles are cluster-wide and other tests
	// (the README's make up) set the real ones' passwords concurrently.
	suffix := testenv.Suffix()
	logins := []store.Login{
		{Name: "t_api_" + suffix, Role: store.APIRole, Password: "pw-" + suffix},
		{Name: "t_worker_" + suffix, Role: store.WorkerRole, Password: "pw-" + suffix},
	}
	limits := store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}
	for range 2 { // the second run is starter migrate run again
		if err := store.EnsureLogins(ctx, owner, logins, limits); err != nil {
			t.Fatal(err)
		}
	}
	// PostgreSQL received a verifier, never the password itself.
	for _, l := range logins {
		var stored string
		if err := owner.QueryRowContext(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = ?", l.Name).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, l.Password) {
			t.Fatalf("login %s: stored password %.20q…, want a SCRAM verifier", l.Name, stored)
		}
	}
	if err := store.CheckLeastPrivilege(ctx, owner); !errors.Is(err, store.ErrPrivileged) {
		t.Fatalf("the owner's login passed the least-privilege check: %v", err)
	}
	t.Cleanup(func() {
		for _, l := range logins {
			owner.ExecContext(context.Background(), "DROP ROLE IF EXISTS "+l.Name)
		}
	})
	refused := []string{
		"UPDATE exchange_rates SET rate = 1",
		"DELETE FROM exchange_rates",
		"TRUNCATE exchange_rates CASCADE",
		"UPDATE conversion_audits SET amount = 1",
		"DELETE FROM conversion_audits",
		"TRUNCATE conversion_audits CASCADE",
		"DELETE FROM audit_seals",
		"UPDATE audit_seals SET signature = NULL",
		"DELETE FROM audit_signing_keys",
		"UPDATE audit_verifications SET problem = ''",
		"UPDATE publisher_health SET status = 'healthy'",
		"DELETE FROM publisher_health",
		"ALTER TABLE conversion_audits DISABLE TRIGGER USER",
		"ALTER TABLE exchange_rates DISABLE TRIGGER ALL",
		"SET session_replication_role = replica",
		"CREATE TABLE evil (id int)",
		"DROP TABLE audit_seals",
	}
	for _, tc := range []struct {
		login   store.Login
		allowed []string
		refused []string
	}{
		{logins[0],
			[]string{"SELECT count(*) FROM exchange_rates", "SELECT count(*) FROM conversion_audits", "SELECT count(*) FROM audit_seals", "SELECT count(*) FROM publisher_health"},
			append([]string{
				// Only the worker records health checks.
				"INSERT INTO publisher_health (provider, checked_at, status, window_start, expected, missed, workflow_id) VALUES ('ecb', now(), 'healthy', now(), 0, 0, 'forged')",
				`INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
				 VALUES ('ecb', 'EUR', 'CHF', 1.07, now(), now(), 'w', 'r', repeat('a', 64))`,
				"INSERT INTO audit_seals (row_count) SELECT row_count FROM audit_seals WHERE false",
				"INSERT INTO audit_signing_keys (key_id, public_key) VALUES ('forged', 'x')",
				"INSERT INTO audit_verifications (verified_at, full_run, seals, rows_checked, unsealed, problem, started_by) VALUES (now(), true, 0, 0, 0, '', 'forged')",
				// A user's role is its newest change: the API appends
				// changes, it never rewrites one or a user.
				"UPDATE admin_user_changes SET role = 'admin'",
				"DELETE FROM admin_user_changes",
				"UPDATE admin_users SET password_hash = 'x'",
				"DELETE FROM admin_users",
			}, refused...)},
		{logins[1],
			[]string{
				"SELECT count(*) FROM conversion_audits",
				`INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
				 VALUES ('ecb', 'EUR', 'CHF', 1.07, now(), now(), 'w', 'r', repeat('a', 64))`,
				"INSERT INTO publisher_health (provider, checked_at, status, window_start, expected, missed, workflow_id) VALUES ('ecb', now(), 'silent', now(), 3, 3, 'w')",
			},
			append([]string{
				"INSERT INTO conversion_audits (amount) SELECT amount FROM conversion_audits WHERE false",
				"INSERT INTO admin_users (username, password_hash) VALUES ('x', 'y')",
				"INSERT INTO admin_user_changes (user_id, role, disabled, changed_by) SELECT id, 'admin', false, 'x' FROM admin_users",
			}, refused...)},
	} {
		t.Run(tc.login.Name[:strings.LastIndex(tc.login.Name, "_")], func(t *testing.T) {
			u, _ := url.Parse(dsn)
			u.User = url.UserPassword(tc.login.Name, tc.login.Password)
			db, err := store.Open(ctx, u.String(), 1)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var super, bypass, owns bool
			var timeout string
			if err := db.QueryRowContext(ctx, `SELECT r.rolsuper, r.rolbypassrls,
				EXISTS (SELECT FROM pg_tables WHERE tableowner = current_user), current_setting('statement_timeout')
				FROM pg_roles r WHERE r.rolname = current_user`).Scan(&super, &bypass, &owns, &timeout); err != nil {
				t.Fatal(err)
			}
			if err := store.CheckLeastPrivilege(ctx, db); err != nil {
				t.Fatalf("the process login failed the least-privilege check: %v", err)
			}
			if super || bypass || owns || timeout != "30s" {
				t.Fatalf("superuser %v, bypasses row security %v, owns a table %v, statement_timeout %q", super, bypass, owns, timeout)
			}
			// What each process does, through the store as it does it.
			as := store.New(db)
			if tc.login.Role == store.APIRole {
				testenv.SeedReceiptsWith(t, st, as, 1) // rates by the owner, the conversion as the API
				if err := as.Quality.SetSuspension(ctx, "EUR", "USD", true, "login test", "admin"); err != nil {
					t.Errorf("the API may not suspend a pair: %v", err)
				}
				if keys, err := as.Audit.SigningKeys(ctx); err != nil {
					t.Errorf("the API may not read the signing keys it publishes: %v %v", keys, err)
				}
				// The console's admins manage users through the history.
				if _, err := as.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "login-test-admin", PasswordHash: "x", Role: store.RoleAdmin, By: "starter"}); err != nil {
					t.Errorf("the API may not create a console user: %v", err)
				}
				u, err := as.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "login-test", PasswordHash: "x", Role: store.RoleViewer, By: "admin"})
				if err != nil {
					t.Errorf("the API may not create a console user: %v", err)
				}
				if err := as.Console.SetAdminRole(ctx, u.ID, store.RoleAdmin, "admin", "login test"); err != nil {
					t.Errorf("the API may not change a user's role: %v", err)
				}
				if err := as.Console.CreateSession(ctx, strings.Repeat("d", 64), u.ID, strings.Repeat("c", 64), time.Now().Add(time.Hour)); err != nil {
					t.Errorf("the API may not sign a user in: %v", err)
				}
				if err := as.Console.SetAdminDisabled(ctx, u.ID, true, "admin", "login test"); err != nil {
					t.Errorf("the API may not disable a user and end its sessions: %v", err)
				}
			} else {
				testenv.SeedReceiptsWith(t, as, st, 1) // rates as the worker, the conversion by the owner
				if _, _, err := as.Audit.Seal(ctx, "w", "r", time.Now(), sealing.Signer); err != nil {
					t.Errorf("the worker may not seal: %v", err)
				}
				pub, _ := audit.EncodePublicKey(sealing.Signer.PublicKey())
				if err := as.Audit.RegisterSigningKey(ctx, sealing.Signer.KeyID(), pub); err != nil {
					t.Errorf("the worker may not publish its key: %v", err)
				}
				if rep := sealing.Verify(t, as, false); !rep.OK() {
					t.Errorf("the worker may not verify the audit log: %+v", rep)
				}
			}
			for _, q := range tc.allowed {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Errorf("refused %q: %v", q, err)
				}
			}
			for _, q := range tc.refused {
				_, err := db.ExecContext(ctx, q)
				if err == nil || !(strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "must be owner")) {
					t.Errorf("allowed %q (err %v)", q, err)
				}
			}
		})
	}
}

// TestLegacyAppRoleHoldsNothing: ces_app, the server-wide role migration
// 2 made and told operators to log in through, holds no privilege in a
// migrated database, and is gone unless another database on the server
// still grants it something (an older CES, or one migrating right now).
func TestLegacyAppRoleHoldsNothing(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	// Every privilege any object of this database grants ces_app, read
	// from the ACLs themselves (a dropped role is in none).
	var granted []string
	err := db.NewRaw(`SELECT format('%s on %s', a.privilege_type, o.name) FROM (
			SELECT c.oid::regclass::text AS name, c.relacl AS acl FROM pg_class c
			UNION ALL SELECT p.oid::regprocedure::text, p.proacl FROM pg_proc p
			UNION ALL SELECT 'schema ' || n.nspname, n.nspacl FROM pg_namespace n
			UNION ALL SELECT 'database ' || d.datname, d.datacl FROM pg_database d WHERE d.datname = current_database()
		) o CROSS JOIN LATERAL aclexplode(o.acl) a JOIN pg_roles r ON r.oid = a.grantee
		WHERE r.rolname = 'ces_app' ORDER BY 1`).Scan(ctx, &granted)
	if err != nil {
		t.Fatal(err)
	}
	if len(granted) > 0 {
		t.Errorf("ces_app still holds %v", granted)
	}
	// The same through PostgreSQL's own check, table by table, while the
	// role exists (another database may keep it).
	var tables []string
	err = db.NewRaw(`SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'S')
		AND has_table_privilege('ces_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
		ORDER BY 1`).Scan(ctx, &tables)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42704" { // undefined_object: no such role, no privilege
		err = nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) > 0 {
		t.Errorf("ces_app may use %v", tables)
	}
	// One snapshot: either the role is gone, or another database still
	// refers to it (which is why DROP ROLE was refused).
	var ok bool
	if err := db.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ces_app')
		OR EXISTS (SELECT FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid AND d.refclassid = 'pg_authid'::regclass
			WHERE r.rolname = 'ces_app' AND d.dbid <> (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Error("ces_app is kept although no other database refers to it")
	}
}

// TestDatabaseLogins: each database gets logins of its own, plain
// PostgreSQL names of at most 63 bytes, however it is called.
func TestDatabaseLogins(t *testing.T) {
	long := strings.Repeat("payments_", 10)
	plain := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	seen := map[string]string{}
	for _, tt := range []struct{ database, api string }{
		{"ces", "ces_api_ces"},
		{"ces_test_0a1b", "ces_api_ces_test_0a1b"},
		{"CES", ""}, // folded: not ces's
		{"my-db", ""},
		{"my_db", "ces_api_my_db"},
		{"zürich", ""},
		{long + "a", ""},
		{long + "b", ""}, // the same first 44 bytes as the one above
		{strings.Repeat("x", 52), "ces_api_" + strings.Repeat("x", 52)}, // ces_worker_ + 52 = 63
		{strings.Repeat("x", 53), ""},
	} {
		t.Run(tt.database, func(t *testing.T) {
			api, worker := store.DatabaseLogins(tt.database)
			if tt.api != "" && api != tt.api {
				t.Errorf("api login %q, want %q", api, tt.api)
			}
			for _, name := range []string{api, worker} {
				if len(name) > 63 || !plain.MatchString(name) {
					t.Errorf("%q is not a plain name of at most 63 bytes", name)
				}
				if other, ok := seen[name]; ok {
					t.Errorf("%q is the login of %q too", name, other)
				}
				seen[name] = tt.database
			}
			if !strings.HasPrefix(api, "ces_api_") || !strings.HasPrefix(worker, "ces_worker_") {
				t.Errorf("logins %q, %q", api, worker)
			}
		})
	}
}
