package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"ces/internal/audit"
	"ces/internal/config"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/migrations"
)

// TestVerifyAuditCommand runs the built starter binary, as an operator
// would, on a clean log and then on one tampered with by a superuser.
func TestVerifyAuditCommand(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db)
	receipts := testenv.SeedReceipts(t, st, 3)
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, st)

	bin := buildStarter(t)
	run := func(dsn string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"verify-audit"}, args...)...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "REDIS_URL=redis://127.0.0.1:6379/0", "AUDIT_ANCHOR_DIR="+sealing.Dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	if code, out := run(dsn, "--full"); code != 0 || !strings.Contains(out, "verify-audit: ok: 3 audit rows checked from the start") || !strings.Contains(out, ", 0 rows not sealed yet") {
		t.Fatalf("clean log: exit %d\n%s", code, out)
	}
	// By default it resumes after the newest clean run.
	if code, out := run(dsn); code != 0 || !strings.Contains(out, "verify-audit: ok: 0 audit rows checked after seal") {
		t.Fatalf("incremental run: exit %d\n%s", code, out)
	}

	testenv.AsOwner(t, db, "UPDATE conversion_audits SET client_address = '10.6.6.6' WHERE id = ?", receipts[2].ID)
	code, out := run(dsn, "--full")
	if code != 1 || !strings.Contains(out, "audit row "+receipts[2].ID) {
		t.Fatalf("tampered log: exit %d, want 1 naming %s\n%s", code, receipts[2].ID, out)
	}
	// Pinned keys replace the anchor's: a key the auditor did not pin fails.
	other := testenv.NewSealing(t)
	pinned := filepath.Join(t.TempDir(), "pinned.pem")
	pub, _ := audit.EncodePublicKey(other.Signer.PublicKey())
	if err := os.WriteFile(pinned, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := run(dsn, "--keys", pinned); code != 1 || !strings.Contains(out, "which is not a trusted key") {
		t.Fatalf("unpinned signing key: exit %d, want 1\n%s", code, out)
	}
	// A database or an anchor it cannot reach is not a verdict on the log.
	if code, out := run("postgres://postgres@127.0.0.1:1/ces?sslmode=disable"); code != 2 {
		t.Fatalf("unreachable database: exit %d, want 2\n%s", code, out)
	}
	sealing.Dir = filepath.Join(t.TempDir(), "no-anchor")
	if code, out := run(dsn); code != 2 || !strings.Contains(out, "AUDIT_ANCHOR_DIR") {
		t.Fatalf("missing anchor: exit %d, want 2 naming AUDIT_ANCHOR_DIR\n%s", code, out)
	}
}

// TestAuditKeygen: a new key is private to its owner, never overwritten,
// and its public half verifies what the private half signs.
func TestAuditKeygen(t *testing.T) {
	bin := buildStarter(t)
	key := filepath.Join(t.TempDir(), "audit-signing.key")
	keygen := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"audit-keygen"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no database, no Temporal
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		return 0, string(out)
	}
	if code, out := keygen(); code == 0 || !strings.Contains(out, "--out") {
		t.Fatalf("without --out: exit %d\n%s", code, out)
	}
	if code, out := keygen("--out", key); code != 0 || strings.Contains(out, "PRIVATE") {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	before, _ := os.ReadFile(key)
	if code, out := keygen("--out", key); code == 0 {
		t.Fatalf("a second keygen over the same file succeeded\n%s", out)
	}
	if code, out := keygen("--out", key, "--if-missing"); code != 0 {
		t.Fatalf("--if-missing on an existing key: exit %d\n%s", code, out)
	}
	after, _ := os.ReadFile(key)
	if string(before) != string(after) {
		t.Fatal("the key was overwritten")
	}
	cfg := config.Config{AuditSigningKeyFile: key}
	signer, err := cfg.Signer()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := audit.ParsePublicKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	seal := audit.Seal{PrevSealHash: audit.GenesisSealHash, SealHash: strings.Repeat("1", 64)}
	signer.Sign(&seal)
	if err := keys.CheckSignature(seal); err != nil {
		t.Fatalf("the .pub file does not verify the key's signature: %v", err)
	}
}

func buildStarter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "starter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build starter: %v\n%s", err, out)
	}
	return bin
}

func TestCreateSuperuserFromStdin(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	bin := buildStarter(t)
	run := func(stdin string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"createsuperuser"}, args...)...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "REDIS_URL=redis://127.0.0.1:6379/0")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		return 0, string(out)
	}
	tests := []struct {
		name, stdin string
		args        []string
		ok          bool
	}{
		{"no username", "a long enough password\n", nil, false},
		{"short password", "short\n", []string{"--username", "ops"}, false},
		{"created", "a long enough password\n", []string{"--username", "ops"}, true},
		{"taken", "another long password\n", []string{"--username", "ops"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := run(tt.stdin, tt.args...)
			if (code == 0) != tt.ok {
				t.Fatalf("exit %d, want ok=%v\n%s", code, tt.ok, out)
			}
			if strings.Contains(out, "long enough password") {
				t.Fatalf("the password was echoed: %s", out)
			}
		})
	}
	db, err := store.Open(context.Background(), dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db)
	u, hash, err := st.Console.AdminCredentials(context.Background(), "ops")
	if err != nil || !strings.HasPrefix(hash, "$2a$") {
		t.Fatalf("stored hash %q, %v", hash, err)
	}
	if u.Role != store.RoleAdmin || u.Disabled || u.ChangedBy != "starter" {
		t.Fatalf("createsuperuser made %+v, want an enabled admin", u)
	}
	acts, err := st.Console.AdminActions(context.Background(), 10)
	if err != nil || len(acts) != 2 || acts[0].Action != "user-create" || !strings.HasPrefix(acts[0].Outcome, "failed: ") ||
		acts[1].Target != "user ops as admin" || acts[1].Outcome != "ok" || acts[1].Username != "starter" {
		t.Fatalf("admin actions = %+v, %v; want the creation and the refused second one", acts, err)
	}
}

// TestUserCommand manages console users as an operator without a working
// console would: each change takes effect, is recorded, and a disable
// ends the user's sessions.
func TestUserCommand(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	bin := buildStarter(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db)
	if _, err := st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "boss", PasswordHash: "x", Role: store.RoleAdmin, By: "test"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		ok    bool
		// wantRole and wantDisabled are ann's afterwards ("" when absent).
		wantRole     string
		wantDisabled bool
		wantOut      string // a regular expression
	}{
		{"create with an unknown role", "a long enough password\n", []string{"create", "--username", "ann", "--role", "root"}, false, "", false, "not a role"},
		{"create with a bad username", "a long enough password\n", []string{"create", "--username", "ann smith"}, false, "", false, "--username"},
		{"create", "a long enough password\n", []string{"create", "--username", "ann", "--role", "operator"}, true, "operator", false, "created ann as operator"},
		{"role without a reason", "", []string{"role", "ann", "viewer"}, false, "operator", false, "--reason is required"},
		{"role of nobody", "", []string{"role", "bob", "viewer", "--reason", "x"}, false, "operator", false, "user role: no user"},
		{"role", "", []string{"role", "ann", "viewer", "--reason", "moved to finance"}, true, "viewer", false, "ann is now viewer"},
		{"disable", "", []string{"disable", "ann", "--reason", "left"}, true, "viewer", true, "ann disabled"},
		{"list", "", []string{"list"}, true, "viewer", true, `ann +viewer +disabled +\S+ +starter +left`},
		{"enable", "", []string{"enable", "ann", "--reason", "back"}, true, "viewer", false, "ann enabled"},
		{"the last admin stays", "", []string{"disable", "boss", "--reason", "x"}, false, "viewer", false, "no enabled admin"},
		{"unknown subcommand", "", []string{"delete", "ann"}, false, "viewer", false, "unknown subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "disable" {
				// A live session, which the disable must end.
				u, _, _ := st.Console.AdminCredentials(ctx, "ann")
				if err := st.Console.CreateSession(ctx, strings.Repeat("e", 64), u.ID, strings.Repeat("c", 64), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin, append([]string{"user"}, tt.args...)...)
			cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "REDIS_URL=redis://127.0.0.1:6379/0")
			cmd.Stdin = strings.NewReader(tt.stdin)
			out, err := cmd.CombinedOutput()
			if (err == nil) != tt.ok || !regexp.MustCompile(tt.wantOut).Match(out) {
				t.Fatalf("err %v, want ok=%v and output with %q:\n%s", err, tt.ok, tt.wantOut, out)
			}
			u, _, err := st.Console.AdminCredentials(ctx, "ann")
			if tt.wantRole == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("ann exists: %+v %v", u, err)
				}
				return
			}
			if err != nil || u.Role != tt.wantRole || u.Disabled != tt.wantDisabled {
				t.Fatalf("ann = %+v, %v; want %s, disabled %v", u, err, tt.wantRole, tt.wantDisabled)
			}
			if _, err := st.Console.SessionByToken(ctx, strings.Repeat("e", 64), time.Now()); tt.wantDisabled && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ann's session survived the disable: %v", err)
			}
		})
	}
	acts, err := st.Console.AdminActions(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.Username+" "+a.Action+" "+a.Target+" "+a.Reason+": "+a.Outcome)
	}
	want := []string{
		"starter user-disable user boss x: failed: store: the change would leave no enabled admin",
		"starter user-enable user ann back: ok",
		"starter user-disable user ann left: ok",
		"starter user-role user ann to viewer moved to finance: ok",
		"starter user-create user ann as operator : ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("admin actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoginsArePerDatabase runs starter migrate, as an operator would, for
// two CES databases on one PostgreSQL server that checks passwords: each
// gets logins of its own, which may do their process's work in their
// database and cannot connect to the other; rotating one database's
// passwords leaves the other's logins and sessions alone; and an install
// from before, on the server-wide ces_api and ces_worker, keeps them when
// it names them and loses them, with a log line, when it moves.
func TestLoginsArePerDatabase(t *testing.T) {
	ctx := context.Background()
	c := testenv.NewCluster(t)
	admin, err := store.Open(ctx, c.URL("postgres"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	one, two := "ces_one", "CES-Two" // the second needs folding into a login name
	for _, name := range []string{one, two} {
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildStarter(t)
	dir := t.TempDir() // no .data/env to read
	run := func(database string, env ...string) (string, error) {
		cmd := exec.Command(bin, env[0])
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + c.URL(database), "REDIS_URL=redis://unused.invalid:6379/0"}, env[1:]...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	starter := func(t *testing.T, database string, env ...string) string {
		t.Helper()
		out, err := run(database, env...)
		if err != nil {
			t.Fatalf("starter %s on %s: %v\n%s", env[0], database, err, out)
		}
		return out
	}
	migrate := func(t *testing.T, database, apiPW, workerPW string, env ...string) string {
		t.Helper()
		return starter(t, database, append([]string{"migrate", "CES_API_DB_PASSWORD=" + apiPW, "CES_WORKER_DB_PASSWORD=" + workerPW}, env...)...)
	}
	// connect opens database as login; the error is PostgreSQL's SQLSTATE.
	connect := func(login, password, database string) (*bun.DB, string) {
		db, err := store.Open(ctx, c.LoginURL(login, password, database), 1)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return nil, pgErr.Code
		}
		if err != nil {
			t.Fatalf("connect as %s to %s: %v", login, database, err)
		}
		return db, ""
	}
	canConnect := func(t *testing.T, login, password, database string, want string) {
		t.Helper()
		db, code := connect(login, password, database)
		if db != nil {
			db.Close()
		}
		if code != want {
			t.Fatalf("%s connecting to %s: SQLSTATE %q, want %q", login, database, code, want)
		}
	}
	const ok, denied, badPassword = "", "42501", "28P01"

	// An install from before: starter migrate made the server-wide logins,
	// which every database let connect.
	legacyDB, err := store.Open(ctx, c.URL(one), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer legacyDB.Close()
	if _, err := migrations.Run(ctx, legacyDB, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureLogins(ctx, legacyDB, []store.Login{
		{Name: store.LegacyAPILogin, Role: store.APIRole, Password: "legacy"},
		{Name: store.LegacyWorkerLogin, Role: store.WorkerRole, Password: "legacy"},
	}, store.Limits{}); err != nil {
		t.Fatal(err)
	}
	legacyDB.Close()
	t.Run("named legacy logins are kept", func(t *testing.T) {
		out := migrate(t, one, "legacy", "legacy", "CES_API_DB_LOGIN="+store.LegacyAPILogin, "CES_WORKER_DB_LOGIN="+store.LegacyWorkerLogin)
		if strings.Contains(out, "per database now") {
			t.Fatalf("a move was logged although the old logins were named:\n%s", out)
		}
		canConnect(t, store.LegacyAPILogin, "legacy", one, ok)
		canConnect(t, store.LegacyWorkerLogin, "legacy", one, ok)
	})

	names := map[string][2]string{}
	passwords := map[string][2]string{one: {"one-api", "one-worker"}, two: {"two-api", "two-worker"}}
	for _, database := range []string{two, one} { // one moves off the legacy logins
		t.Run("migrate "+database, func(t *testing.T) {
			out := migrate(t, database, passwords[database][0], passwords[database][1])
			if !strings.Contains(out, "logins are per database now") {
				t.Fatalf("the old logins could connect, and no move was logged:\n%s", out)
			}
			api, worker := store.DatabaseLogins(database)
			names[database] = [2]string{api, worker}
			if got := starter(t, database, "db-logins"); got != "CES_API_DB_LOGIN="+api+"\nCES_WORKER_DB_LOGIN="+worker+"\n" {
				t.Fatalf("db-logins printed %q, want %s and %s", got, api, worker)
			}
			canConnect(t, store.LegacyAPILogin, "legacy", database, denied)
			canConnect(t, store.LegacyWorkerLogin, "legacy", database, denied)
		})
	}
	if names[one] == names[two] || !strings.HasPrefix(names[two][0], "ces_api_ces_two_") {
		t.Fatalf("login names %v", names)
	}

	work := func(t *testing.T, database string) {
		t.Helper()
		api, code := connect(names[database][0], passwords[database][0], database)
		if code != ok {
			t.Fatalf("the API's login of %s: SQLSTATE %s", database, code)
		}
		defer api.Close()
		if _, err := api.ExecContext(ctx, "SELECT count(*) FROM exchange_rates"); err != nil {
			t.Fatalf("the API's login of %s cannot read rates: %v", database, err)
		}
		worker, code := connect(names[database][1], passwords[database][1], database)
		if code != ok {
			t.Fatalf("the worker's login of %s: SQLSTATE %s", database, code)
		}
		defer worker.Close()
		if _, err := worker.ExecContext(ctx, `INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
			VALUES ('ecb', 'EUR', 'CHF', 1.07, now(), now(), 'w', 'r', repeat('a', 64))`); err != nil {
			t.Fatalf("the worker's login of %s cannot insert rates: %v", database, err)
		}
	}
	t.Run("each works in its own database only", func(t *testing.T) {
		for database, other := range map[string]string{one: two, two: one} {
			work(t, database)
			for i, login := range names[database] {
				canConnect(t, login, passwords[database][i], other, denied)
			}
		}
	})

	t.Run("rotating one leaves the other alone", func(t *testing.T) {
		open, code := connect(names[two][0], passwords[two][0], two) // a session of two's running API
		if code != ok {
			t.Fatalf("SQLSTATE %s", code)
		}
		defer open.Close()
		old := passwords[one]
		passwords[one] = [2]string{"one-api-rotated", "one-worker-rotated"}
		migrate(t, one, passwords[one][0], passwords[one][1])
		for i, login := range names[one] {
			canConnect(t, login, old[i], one, badPassword)
		}
		work(t, one)
		work(t, two)
		if _, err := open.ExecContext(ctx, "SELECT count(*) FROM exchange_rates"); err != nil {
			t.Fatalf("two's open session broke when one rotated: %v", err)
		}
		for database, other := range map[string]string{one: two, two: one} {
			for i, login := range names[database] {
				canConnect(t, login, passwords[database][i], other, denied)
			}
		}
	})

	t.Run("a login that is not the database's to set is refused", func(t *testing.T) {
		for _, login := range []string{names[one][0], "postgres"} {
			out, err := run(two, "migrate", "CES_API_DB_PASSWORD=taken", "CES_WORKER_DB_PASSWORD=taken", "CES_API_DB_LOGIN="+login)
			if err == nil || !strings.Contains(out, "login name is unfit") {
				t.Fatalf("migrate two as %s: %v\n%s", login, err, out)
			}
		}
		work(t, one) // one's password is still one's
		canConnect(t, "postgres", testenv.ClusterPassword, two, ok)
	})
}
