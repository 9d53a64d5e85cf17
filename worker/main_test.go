package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRefusesToStartWithoutItsSigningKey: a worker that could not sign
// seals stops at start, with one line naming the variable and never the
// key, before it touches the database or Temporal.
func TestRefusesToStartWithoutItsSigningKey(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "worker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.key")
	if err := os.WriteFile(garbage, []byte("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, keyFile, want string }{
		{"not set", "", "AUDIT_SIGNING_KEY_FILE is required by the worker but not set"},
		{"missing", filepath.Join(dir, "absent.key"), "AUDIT_SIGNING_KEY_FILE cannot be read: no such file or directory"},
		{"not a key", garbage, "AUDIT_SIGNING_KEY_FILE is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Dir = t.TempDir() // no .data/env to pick up
			// Unreachable on purpose: the key is checked before either is dialled.
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=postgres://ces_worker:pw@127.0.0.1:1/ces", "REDIS_URL=redis://127.0.0.1:1/0",
				"TEMPORAL_ADDRESS=127.0.0.1:1", "METRICS_ADDR=127.0.0.1:0", "AUDIT_ANCHOR_DIR=" + filepath.Join(dir, "anchor"), "AUDIT_SIGNING_KEY_FILE=" + tt.keyFile}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				text := strings.TrimSpace(out.String())
				if err == nil || !strings.Contains(text, tt.want) || strings.Count(text, "\n") != 0 {
					t.Fatalf("exit %v, want one line saying %q:\n%s", err, tt.want, text)
				}
				if strings.Contains(text, "c2VjcmV0") {
					t.Fatalf("the error quotes the key file:\n%s", text)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the worker kept running without a signing key:\n%s", out.String())
			}
		})
	}
}

// TestIngestOnlyWorkerNeedsNoSigningKey: a worker serving only the ingest
// queue never seals, so it starts without AUDIT_SIGNING_KEY_FILE (and here
// stops at the unreachable database instead).
func TestIngestOnlyWorkerNeedsNoSigningKey(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "worker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=postgres://ces_worker:pw@127.0.0.1:1/ces", "REDIS_URL=redis://127.0.0.1:1/0",
		"TEMPORAL_ADDRESS=127.0.0.1:1", "METRICS_ADDR=127.0.0.1:0", "WORKER_QUEUES=ingest"}
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		if strings.Contains(string(out), "AUDIT_SIGNING_KEY_FILE") || !strings.Contains(string(out), "connection refused") {
			t.Fatalf("want a stop at the unreachable database, not at the signing key:\n%s", out)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the worker neither started nor stopped")
	}
}
