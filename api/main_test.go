package main

import (
	"context"
	"net"
	"net/http"
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
		"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "TEMPORAL_ADDRESS=127.0.0.1:1"}
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
	u := testenv.Login(t, owner, dsn, "t_api_quota_", store.APIRole, "quota-test-only")
	k, key, hash, err := clients.NewKey("two processes", clients.DefaultScopes, 3, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Keys.CreateAPIKey(ctx, k, hash); err != nil {
		t.Fatal(err)
	}
	bin := buildAPI(t)
	// Redis database 0 under the test Redis; the quota keys carry the key's id.
	var bases []string
	for range 2 {
		base, _ := startAPI(t, bin, "DATABASE_URL="+u.String(), "CONVERT_MAX_RATE_AGE=876000h", "RATE_STALE_AFTER=876000h", "FX_PROVIDERS=ecb")
		bases = append(bases, base)
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

// TestAdminAndMetricsOnTheirOwnListener: the process serves the admin
// console and /metrics on ADMIN_ADDR only; the public listener answers
// them 404, and still answers /healthz (api healthcheck) and /readyz.
func TestAdminAndMetricsOnTheirOwnListener(t *testing.T) {
	dsn := testenv.DatabaseURL(t)
	ctx := context.Background()
	owner, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	u := testenv.Login(t, owner, dsn, "t_api_listen_", store.APIRole, "listen-test-only")
	bin := buildAPI(t)
	public, adminBase := startAPI(t, bin, "DATABASE_URL="+u.String())
	for _, tt := range []struct {
		base, path string
		want       int
	}{
		{public, "/healthz", 200},
		{public, "/readyz", 200},
		{public, "/metrics", 404},
		{public, "/admin/login", 404},
		{public, "/admin/", 404},
		{adminBase, "/metrics", 200},
		{adminBase, "/admin/login", 200},
		{adminBase, "/api/v1/rates?from=EUR&to=USD", 404},
	} {
		r, err := http.Get(tt.base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tt.want {
			t.Errorf("GET %s%s: %d, want %d", tt.base, tt.path, r.StatusCode, tt.want)
		}
	}
	// The container healthcheck asks HTTP_ADDR, as before.
	host := strings.TrimPrefix(public, "http://")
	if code := healthcheck(host); code != 0 {
		t.Errorf("healthcheck(%s) = %d", host, code)
	}
}

// buildAPI builds this command into a temporary directory.
func buildAPI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr is a loopback address nothing listens on a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startAPI runs bin with env over the test Redis and no Temporal, on
// free ports, until the test ends, and returns the public and the admin
// listeners' base URLs once /healthz answers.
func startAPI(t *testing.T, bin string, env ...string) (public, admin string) {
	t.Helper()
	addr, adminAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "REDIS_URL=" + testenv.RedisURL(t),
		"HTTP_ADDR=" + addr, "ADMIN_ADDR=" + adminAddr, "TEMPORAL_ADDRESS=127.0.0.1:1"}, env...)
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
	public, admin = "http://"+addr, "http://"+adminAddr
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, err := http.Get(public + "/healthz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			return public, admin
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up", public)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
