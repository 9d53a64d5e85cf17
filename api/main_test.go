package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ces/internal/testenv"
)

// TestRefusesThePrivilegedLogin starts the api with the owner's (here a
// superuser's) login: it must stop at once, saying why, rather than serve
// with credentials that can switch the audit triggers off.
func TestRefusesThePrivilegedLogin(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir() // no .data/env to pick up
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dsn, "REDIS_URL=" + testenv.RedisURL(t),
		"HTTP_ADDR=127.0.0.1:0", "TEMPORAL_ADDRESS=127.0.0.1:1"}
	done := make(chan error, 1)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(out.String(), "the database login is privileged") {
			t.Fatalf("exit %v, want a refusal naming the privileged login:\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "@127.0.0.1") {
			t.Fatalf("the refusal shows the database URL:\n%s", out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the api kept running as a superuser:\n%s", out.String())
	}
}
