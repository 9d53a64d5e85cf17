package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"ces/internal/admin"
	"ces/internal/ingestion"
	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func init() {
	// bcrypt at its production cost is slow under the race detector; the
	// tests check the flow, not the work factor.
	admin.BcryptCost = bcrypt.MinCost
}

type console struct {
	app   *fiber.App
	st    *store.Store
	ctrl  *ingestion.Control
	rates *republisher
}

// republisher records what the console asked the rates service to republish.
type republisher struct {
	mu          sync.Mutex
	resynced    []string
	suspensions int
}

func (r *republisher) Resync(_ context.Context, provider string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resynced = append(r.resynced, provider)
	return nil
}

func (r *republisher) SyncSuspensions(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.suspensions++
	return nil
}

func (r *republisher) calls() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resynced), r.suspensions
}

const (
	testUser     = "ops@ces"
	testPassword = "correct horse battery staple"
)

// newConsole mounts the console over a real database and a real Temporal
// schedule, with one admin user; opts adjust its dependencies.
func newConsole(t *testing.T, opts ...func(*admin.Deps)) *console {
	t.Helper()
	st := store.New(testenv.DB(t))
	hash, err := admin.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Console.CreateAdminUser(context.Background(), store.NewAdminUser{Username: testUser, PasswordHash: hash, Role: store.RoleAdmin, By: "test"}); err != nil {
		t.Fatal(err)
	}
	tc := testenv.Temporal(t)
	id := "ingest-rates-admin-test-" + testenv.Suffix()
	if _, err := ingestion.EnsureSchedule(context.Background(), tc, ingestion.ScheduleOptions{
		ID: id, Provider: "ecb", TaskQueue: testenv.TaskQueue(t), Interval: 24 * time.Hour,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background()) })
	ctrl := ingestion.NewControl(tc, "ecb", id)
	rp := &republisher{}
	d := admin.Deps{
		Stores: admin.StoresOf(st), Ingestion: map[string]admin.Ingestion{"ecb": ctrl}, Providers: []string{"ecb"},
		StaleAfter: func(string) time.Duration { return time.Hour }, Rates: rp,
		TemporalUI: "http://127.0.0.1:8233", Log: quiet,
	}
	for _, o := range opts {
		o(&d)
	}
	c, err := admin.New(d)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	c.Mount(app)
	return &console{app: app, st: st, ctrl: ctrl, rates: rp}
}

type resp struct {
	status  int
	body    string
	header  http.Header
	cookies []*http.Cookie
}

func (c *console) do(t *testing.T, method, target string, form url.Values, cookies ...*http.Cookie) resp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range cookies {
		if ck != nil {
			req.AddCookie(ck)
		}
	}
	r, err := c.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, body: string(b), header: r.Header, cookies: r.Cookies()}
}

func cookie(r resp, name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// loginForm opens the sign-in page and returns its CSRF cookie and token.
func (c *console) loginForm(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	r := c.do(t, "GET", "/admin/login", nil)
	m := csrfField.FindStringSubmatch(r.body)
	ck := cookie(r, "ces_login_csrf")
	if r.status != 200 || m == nil || ck == nil {
		t.Fatalf("login page: %d, token %v, cookie %v", r.status, m, ck)
	}
	return ck, m[1]
}

func (c *console) signIn(t *testing.T, password string) resp {
	t.Helper()
	return c.signInAs(t, testUser, password)
}

func (c *console) signInAs(t *testing.T, username, password string) resp {
	t.Helper()
	ck, token := c.loginForm(t)
	return c.do(t, "POST", "/admin/login", url.Values{"csrf": {token}, "username": {username}, "password": {password}}, ck)
}

// session signs in as the admin and returns the session cookie and the
// page's CSRF token.
func (c *console) session(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	return c.sessionAs(t, testUser)
}

// sessionAs signs in as username (password testPassword).
func (c *console) sessionAs(t *testing.T, username string) (*http.Cookie, string) {
	t.Helper()
	r := c.signInAs(t, username, testPassword)
	ck := cookie(r, "ces_session")
	if r.status != 303 || ck == nil {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie not HttpOnly/SameSite=Strict: %+v", ck)
	}
	page := c.do(t, "GET", "/admin/", nil, ck)
	m := csrfField.FindStringSubmatch(page.body)
	if page.status != 200 || m == nil {
		t.Fatalf("dashboard: %d", page.status)
	}
	return ck, m[1]
}

func TestWithoutSessionRedirectsToSignIn(t *testing.T) {
	c := newConsole(t)
	for _, target := range []string{"/admin/", "/admin/rates", "/admin/conversions", "/admin/integrity", "/admin/quality", "/admin/rates.csv"} {
		r := c.do(t, "GET", target, nil)
		if r.status != 303 || r.header.Get("Location") != "/admin/login" {
			t.Fatalf("%s: %d to %q, want 303 to /admin/login", target, r.status, r.header.Get("Location"))
		}
	}
	for _, target := range []string{"/admin/ingestion/pause", "/admin/quality/1/release", "/admin/pairs/suspend"} {
		if r := c.do(t, "POST", target, url.Values{"provider": {"ecb"}, "reason": {"x"}}); r.status != 303 {
			t.Fatalf("POST %s without session: %d", target, r.status)
		}
	}
	bogus := &http.Cookie{Name: "ces_session", Value: strings.Repeat("ab", 32)}
	if r := c.do(t, "GET", "/admin/", nil, bogus); r.status != 303 {
		t.Fatalf("unknown session token: %d", r.status)
	}
}

func TestSignIn(t *testing.T) {
	c := newConsole(t)
	t.Run("wrong password", func(t *testing.T) {
		r := c.signIn(t, "not the password")
		if r.status != 401 || !strings.Contains(r.body, "Wrong username or password") || cookie(r, "ces_session") != nil {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("missing CSRF token", func(t *testing.T) {
		ck, _ := c.loginForm(t)
		r := c.do(t, "POST", "/admin/login", url.Values{"username": {testUser}, "password": {testPassword}}, ck)
		if r.status != 403 {
			t.Fatalf("%d", r.status)
		}
	})
	t.Run("wrong CSRF token", func(t *testing.T) {
		ck, _ := c.loginForm(t)
		r := c.do(t, "POST", "/admin/login", url.Values{"csrf": {strings.Repeat("0", 64)}, "username": {testUser}, "password": {testPassword}}, ck)
		if r.status != 403 {
			t.Fatalf("%d", r.status)
		}
	})
	t.Run("right password, then sign out", func(t *testing.T) {
		ck, token := c.session(t)
		if r := c.do(t, "POST", "/admin/logout", url.Values{"csrf": {token}}, ck); r.status != 303 {
			t.Fatalf("logout: %d", r.status)
		}
		if r := c.do(t, "GET", "/admin/", nil, ck); r.status != 303 {
			t.Fatalf("the signed-out session still works: %d", r.status)
		}
	})
}

func TestActionsNeedCSRF(t *testing.T) {
	c := newConsole(t)
	ck, token := c.session(t)
	for _, tt := range []struct {
		name string
		form url.Values
	}{
		{"missing", url.Values{"provider": {"ecb"}, "reason": {"maintenance"}}},
		{"wrong", url.Values{"provider": {"ecb"}, "reason": {"maintenance"}, "csrf": {strings.Repeat("f", 64)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := c.do(t, "POST", "/admin/ingestion/pause", tt.form, ck); r.status != 403 {
				t.Fatalf("%d", r.status)
			}
		})
	}
	st, err := c.ctrl.Status(context.Background())
	if err != nil || st.Paused {
		t.Fatalf("a refused request paused the schedule: %+v %v", st, err)
	}
	// With the token: paused in Temporal, and the action recorded.
	r := c.do(t, "POST", "/admin/ingestion/pause", url.Values{"provider": {"ecb"}, "reason": {"provider maintenance"}, "csrf": {token}}, ck)
	if r.status != 303 {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	if st, err := c.ctrl.Status(context.Background()); err != nil || !st.Paused || !strings.Contains(st.Note, "provider maintenance") {
		t.Fatalf("schedule after pause: %+v %v", st, err)
	}
	acts, err := c.st.Console.AdminActions(context.Background(), 5)
	if err != nil || len(acts) != 1 || acts[0].Action != "pause" || acts[0].Target != "ecb" || acts[0].Username != testUser || acts[0].Reason != "provider maintenance" || acts[0].Outcome != "ok" {
		t.Fatalf("recorded actions: %+v %v", acts, err)
	}
	if _, err := c.st.DB().ExecContext(context.Background(), "DELETE FROM admin_actions"); err == nil {
		t.Fatal("admin actions can be deleted")
	}
}

func TestSignInLockout(t *testing.T) {
	c := newConsole(t)
	for i := 0; i < admin.MaxFailures; i++ {
		if r := c.signIn(t, "guess"); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	// Locked out: even the right password is refused now.
	r := c.signIn(t, testPassword)
	if r.status != 429 || cookie(r, "ces_session") != nil || r.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d %q", admin.MaxFailures, r.status, r.header.Get("Retry-After"))
	}
}

// TestSignInLockoutIsShared: failures on one API replica lock the
// username out on another (the count is in Redis), and a success clears it.
func TestSignInLockoutIsShared(t *testing.T) {
	a := newConsole(t)
	rdb, prefix := testenv.Redis(t)
	var replicas []*console
	for range 2 {
		c, err := admin.New(admin.Deps{Stores: admin.StoresOf(a.st), Redis: rdb, RedisPrefix: prefix, Log: quiet, Ingestion: map[string]admin.Ingestion{}})
		if err != nil {
			t.Fatal(err)
		}
		app := fiber.New()
		c.Mount(app)
		replicas = append(replicas, &console{app: app, st: a.st})
	}
	if r := replicas[1].signIn(t, testPassword); r.status != 303 {
		t.Fatalf("a first sign-in: %d", r.status)
	}
	for i := 0; i < admin.MaxFailures; i++ {
		if r := replicas[i%2].signIn(t, "guess"); r.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := replicas[1].signIn(t, testPassword)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures spread over two replicas: %d", admin.MaxFailures, r.status)
	}
}

func TestUnknownConversionIsNotFound(t *testing.T) {
	c := newConsole(t)
	ck, _ := c.session(t)
	for _, id := range []string{"not-a-uuid", "0192f3a0-0000-7000-8000-000000000000"} {
		if r := c.do(t, "GET", "/admin/conversions/"+id, nil, ck); r.status != 404 {
			t.Fatalf("%s: %d", id, r.status)
		}
	}
}

// TestDashboardNamesPublishers checks the dashboard describes each
// provider from its catalogue entry: who publishes it, the currency it
// issues, its cadence and when it is polled.
func TestDashboardNamesPublishers(t *testing.T) {
	c := newConsole(t)
	ck, _ := c.session(t)
	page := c.do(t, "GET", "/admin/", nil, ck)
	for _, want := range []string{`<a href="/admin/publishers/ecb">ecb</a>: European Central Bank`, "Issues EUR; reference rate, daily, against EUR; polled <code>10 14-17 * * 1-5</code> UTC.",
		"Publisher health not checked yet"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	// Once checked, each publisher shows its newest verdict.
	at := time.Date(2017, 2, 8, 12, 0, 0, 0, time.UTC)
	if err := c.st.Health.RecordChecks(context.Background(), []store.PublisherCheck{
		{Provider: "ecb", CheckedAt: at.Add(-time.Hour), Status: policy.Healthy, WindowStart: at.AddDate(0, 0, -35), Expected: 24, Missed: 1, WorkflowID: "w"},
		{Provider: "ecb", CheckedAt: at, Status: policy.Late, WindowStart: at.AddDate(0, 0, -35), Expected: 24, Missed: 2, WorkflowID: "w"},
	}); err != nil {
		t.Fatal(err)
	}
	page = c.do(t, "GET", "/admin/", nil, ck)
	if want := "Publisher health <strong>late</strong>: 2 of 24 publications due since"; !strings.Contains(page.body, want) {
		t.Errorf("the dashboard lacks %q", want)
	}
}

// TestSignInLockoutOnRedisTopologies: the shared lock-out works on a
// Redis Cluster and a Sentinel group, under the production prefix.
func TestSignInLockoutOnRedisTopologies(t *testing.T) {
	a := newConsole(t)
	for _, topo := range testenv.RedisTopologies {
		t.Run(topo.Name, func(t *testing.T) {
			rdb, _ := topo.Start(t)
			var replicas []*console
			for range 2 {
				c, err := admin.New(admin.Deps{Stores: admin.StoresOf(a.st), Redis: rdb, RedisPrefix: "ces:", Log: quiet, Ingestion: map[string]admin.Ingestion{}})
				if err != nil {
					t.Fatal(err)
				}
				app := fiber.New()
				c.Mount(app)
				replicas = append(replicas, &console{app: app, st: a.st})
			}
			for i := 0; i < admin.MaxFailures; i++ {
				if r := replicas[i%2].signIn(t, "guess"); r.status != 401 {
					t.Fatalf("attempt %d: %d", i+1, r.status)
				}
			}
			if r := replicas[1].signIn(t, testPassword); r.status != 429 || r.header.Get("Retry-After") == "" {
				t.Fatalf("after %d failures spread over two replicas: %d", admin.MaxFailures, r.status)
			}
		})
	}
}
