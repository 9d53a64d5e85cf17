package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ces/internal/clients"
	"ces/internal/store"
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

// TestTwoProcessesShareOneQuota starts two api processes on one database
// and one Redis, each as the API's own login: a key's quota is drawn on by
// both, and the request over it is 429 on whichever process it reaches.
func TestTwoProcessesShareOneQuota(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	ctx := context.Background()
	owner, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	st := store.New(owner)
	testenv.SeedReceipts(t, st, 1) // an EUR→USD rate to convert with
	login := store.Login{Name: "t_api_quota_" + testenv.Suffix(), Role: store.APIRole, Password: "quota-test-only"}
	if err := store.EnsureLogins(ctx, owner, []store.Login{login}, store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.ExecContext(context.Background(), "DROP OWNED BY "+login.Name+"; DROP ROLE IF EXISTS "+login.Name)
	})
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(login.Name, login.Password)
	k, key, hash, err := clients.NewKey("two processes", clients.DefaultScopes, 3, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIKey(ctx, k, hash); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// Redis database 0 under the test Redis; the quota keys carry the key's id.
	var bases []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + u.String(), "REDIS_URL=" + testenv.RedisURL(t),
			"HTTP_ADDR=" + addr, "TEMPORAL_ADDRESS=127.0.0.1:1", "CONVERT_MAX_RATE_AGE=876000h", "RATE_STALE_AFTER=876000h", "FX_PROVIDERS=ecb"}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("api on %s:\n%s", addr, out.String())
			}
		})
		bases = append(bases, "http://"+addr)
	}
	for _, b := range bases {
		deadline := time.Now().Add(20 * time.Second)
		for {
			if r, err := http.Get(b + "/healthz"); err == nil && r.StatusCode == 200 {
				r.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not come up", b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	convert := func(base string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/convert", strings.NewReader(`{"amount":"10.00","from_currency":"EUR","to_currency":"USD"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for i := range 3 {
		if status, h := convert(bases[i%2]); status != 201 {
			t.Fatalf("request %d on process %d: %d %v", i+1, i%2, status, h)
		}
	}
	for i, b := range bases {
		if status, h := convert(b); status != 429 || h.Get("Retry-After") == "" {
			t.Fatalf("over the quota on process %d: %d %v", i, status, h)
		}
	}
}
