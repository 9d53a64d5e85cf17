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

	"ces/internal/audit"
	"ces/internal/config"
	"ces/internal/store"
	"ces/internal/testenv"
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
	u, hash, err := st.AdminCredentials(context.Background(), "ops")
	if err != nil || !strings.HasPrefix(hash, "$2a$") {
		t.Fatalf("stored hash %q, %v", hash, err)
	}
	if u.Role != store.RoleAdmin || u.Disabled || u.ChangedBy != "starter" {
		t.Fatalf("createsuperuser made %+v, want an enabled admin", u)
	}
	acts, err := st.AdminActions(context.Background(), 10)
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
	if _, err := st.CreateAdminUser(ctx, store.NewAdminUser{Username: "boss", PasswordHash: "x", Role: store.RoleAdmin, By: "test"}); err != nil {
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
				u, _, _ := st.AdminCredentials(ctx, "ann")
				if err := st.CreateSession(ctx, strings.Repeat("e", 64), u.ID, strings.Repeat("c", 64), time.Now().Add(time.Hour)); err != nil {
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
			u, _, err := st.AdminCredentials(ctx, "ann")
			if tt.wantRole == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("ann exists: %+v %v", u, err)
				}
				return
			}
			if err != nil || u.Role != tt.wantRole || u.Disabled != tt.wantDisabled {
				t.Fatalf("ann = %+v, %v; want %s, disabled %v", u, err, tt.wantRole, tt.wantDisabled)
			}
			if _, err := st.SessionByToken(ctx, strings.Repeat("e", 64), time.Now()); tt.wantDisabled && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ann's session survived the disable: %v", err)
			}
		})
	}
	acts, err := st.AdminActions(ctx, 100)
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
