package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	run := func(dsn string) (int, string) {
		cmd := exec.Command(bin, "verify-audit")
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
	if code, out := run(dsn); code != 0 || !strings.Contains(out, "verify-audit: ok: 3 audit rows checked from the start") || !strings.Contains(out, ", 0 rows not sealed yet") {
		t.Fatalf("clean log: exit %d\n%s", code, out)
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "UPDATE conversion_audits SET client_address = '10.6.6.6' WHERE id = ?", receipts[2].ID); err != nil {
		t.Fatal(err)
	}
	code, out := run(dsn)
	if code != 1 || !strings.Contains(out, "audit row "+receipts[2].ID) {
		t.Fatalf("tampered log: exit %d, want 1 naming %s\n%s", code, receipts[2].ID, out)
	}
	// A database it cannot reach is not a verdict on the log.
	if code, out := run("postgres://postgres@127.0.0.1:1/ces?sslmode=disable"); code != 2 {
		t.Fatalf("unreachable database: exit %d, want 2\n%s", code, out)
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
	_, hash, err := store.New(db).AdminPasswordHash(context.Background(), "ops")
	if err != nil || !strings.HasPrefix(hash, "$2a$") {
		t.Fatalf("stored hash %q, %v", hash, err)
	}
}
