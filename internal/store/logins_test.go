package store_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

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
			[]string{"SELECT count(*) FROM exchange_rates", "SELECT count(*) FROM conversion_audits", "SELECT count(*) FROM audit_seals"},
			append([]string{
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
				if err := as.SetSuspension(ctx, "EUR", "USD", true, "login test", "admin"); err != nil {
					t.Errorf("the API may not suspend a pair: %v", err)
				}
				if keys, err := as.SigningKeys(ctx); err != nil {
					t.Errorf("the API may not read the signing keys it publishes: %v %v", keys, err)
				}
				// The console's admins manage users through the history.
				if _, err := as.CreateAdminUser(ctx, store.NewAdminUser{Username: "login-test-admin", PasswordHash: "x", Role: store.RoleAdmin, By: "starter"}); err != nil {
					t.Errorf("the API may not create a console user: %v", err)
				}
				u, err := as.CreateAdminUser(ctx, store.NewAdminUser{Username: "login-test", PasswordHash: "x", Role: store.RoleViewer, By: "admin"})
				if err != nil {
					t.Errorf("the API may not create a console user: %v", err)
				}
				if err := as.SetAdminRole(ctx, u.ID, store.RoleAdmin, "admin", "login test"); err != nil {
					t.Errorf("the API may not change a user's role: %v", err)
				}
				if err := as.CreateSession(ctx, strings.Repeat("d", 64), u.ID, strings.Repeat("c", 64), time.Now().Add(time.Hour)); err != nil {
					t.Errorf("the API may not sign a user in: %v", err)
				}
				if err := as.SetAdminDisabled(ctx, u.ID, true, "admin", "login test"); err != nil {
					t.Errorf("the API may not disable a user and end its sessions: %v", err)
				}
			} else {
				testenv.SeedReceiptsWith(t, as, st, 1) // rates as the worker, the conversion by the owner
				if _, _, err := as.Seal(ctx, "w", "r", time.Now(), sealing.Signer); err != nil {
					t.Errorf("the worker may not seal: %v", err)
				}
				pub, _ := audit.EncodePublicKey(sealing.Signer.PublicKey())
				if err := as.RegisterSigningKey(ctx, sealing.Signer.KeyID(), pub); err != nil {
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
