package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/admin"
	"ces/internal/clients"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/store"
)

// verifier starts nothing: the verify button's own test runs the real
// workflow (TestConsoleInBrowser); here only who may press it matters.
type verifier struct{}

func (verifier) Start(_ context.Context, by string, _ bool) (string, string, error) {
	return "verify-audit-test-" + by, "run", nil
}

func (verifier) Wait(context.Context, string, string) (flow.VerifyAuditResult, error) {
	return flow.VerifyAuditResult{}, nil
}

// member is a signed-in console user.
type member struct {
	name string
	role admin.Role
	ck   *http.Cookie
	csrf string
}

// members creates a viewer and an operator and signs them in, with the
// console's admin (testUser), least powerful first.
func (c *console) members(t *testing.T) []member {
	t.Helper()
	out := []member{{name: "viewer@ces", role: admin.Viewer}, {name: "operator@ces", role: admin.Operator}, {name: testUser, role: admin.Admin}}
	for i := range out {
		m := &out[i]
		if m.role != admin.Admin {
			c.addUser(t, m.name, m.role)
		}
		m.ck, m.csrf = c.sessionAs(t, m.name)
	}
	return out
}

// addUser stores a console user with password testPassword.
func (c *console) addUser(t *testing.T, username string, role admin.Role) store.AdminUser {
	t.Helper()
	hash, err := admin.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.st.Console.CreateAdminUser(context.Background(), store.NewAdminUser{Username: username, PasswordHash: hash, Role: string(role), By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// held stores an ECB EUR/quote at 1.00 and, a day later, at 0.01: one
// quarantine of its own pair.
func held(t *testing.T, st *store.Store, quote string) store.Quarantine {
	t.Helper()
	d1 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: d1.Add(24 * time.Hour), Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	var res store.InsertResult
	for _, r := range []struct {
		at    time.Time
		value string
	}{{d1, "1.00"}, {d1.Add(24 * time.Hour), "0.01"}} {
		var err error
		res, err = st.Rates.InsertRates(context.Background(), fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: r.at, PayloadHash: strings.Repeat("a", 64),
			Rates: []fx.QuotedRate{{Quote: quote, Value: decimal.RequireFromString(r.value)}}}, gated)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(res.Quarantined) != 1 {
		t.Fatalf("EUR/%s: %+v, want one quarantine", quote, res)
	}
	return res.Quarantined[0]
}

// writes counts the rows of every table a console action may write, and
// says whether the ECB schedule is paused: what a refused action must
// leave as it found it.
func (c *console) writes(t *testing.T) string {
	t.Helper()
	var counts []string
	for _, table := range []string{"admin_actions", "admin_users", "admin_user_changes", "admin_sessions", "api_keys", "api_key_revocations",
		"rate_quarantine_decisions", "pair_suspensions"} {
		var n int
		if err := c.st.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, fmt.Sprintf("%s=%d", table, n))
	}
	s, err := c.ctrl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(counts, " ") + fmt.Sprintf(" paused=%v note=%q", s.Paused, s.Note)
}

// actionRoute is one POST route of the console and who may use it.
type actionRoute struct {
	route  string     // as Mount registers it
	least  admin.Role // the least role allowed
	action string     // what admin_actions records
	ok     int        // the status of an allowed request
	// target makes what one request acts on, fresh for each, and returns
	// the request's path and form (less the CSRF token).
	target func(t *testing.T, c *console, n int) (string, url.Values)
}

var quotes = []string{"CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "ISK", "TRY", "AUD", "CAD"}

func actionRoutes() []actionRoute {
	fixed := func(path string, form url.Values) func(*testing.T, *console, int) (string, url.Values) {
		return func(*testing.T, *console, int) (string, url.Values) { return path, form }
	}
	quarantines := 0 // each its own pair
	quarantine := func(verb string) func(*testing.T, *console, int) (string, url.Values) {
		return func(t *testing.T, c *console, _ int) (string, url.Values) {
			q := held(t, c.st, quotes[quarantines])
			quarantines++
			return fmt.Sprintf("/admin/quality/%d/%s", q.ID, verb), url.Values{"reason": {"checked"}}
		}
	}
	user := func(verb string, form url.Values, disabled bool) func(*testing.T, *console, int) (string, url.Values) {
		return func(t *testing.T, c *console, n int) (string, url.Values) {
			u := c.addUser(t, fmt.Sprintf("target-%d", n), admin.Operator)
			if disabled {
				if err := c.st.Console.SetAdminDisabled(context.Background(), u.ID, true, "test", "setup"); err != nil {
					t.Fatal(err)
				}
			}
			return fmt.Sprintf("/admin/users/%d/%s", u.ID, verb), form
		}
	}
	ecb := func(reason string) url.Values { return url.Values{"provider": {"ecb"}, "reason": {reason}} }
	pair := url.Values{"base": {"EUR"}, "quote": {"USD"}, "reason": {"role test"}}
	return []actionRoute{
		{"/admin/ingestion/trigger", admin.Operator, "trigger", 303, fixed("/admin/ingestion/trigger", ecb(""))},
		{"/admin/ingestion/pause", admin.Operator, "pause", 303, fixed("/admin/ingestion/pause", ecb("role test"))},
		{"/admin/ingestion/resume", admin.Operator, "resume", 303, fixed("/admin/ingestion/resume", ecb("role test"))},
		{"/admin/integrity/verify", admin.Operator, "verify-audit", 200, fixed("/admin/integrity/verify", url.Values{})},
		{"/admin/quality/:id/release", admin.Operator, "release", 303, quarantine("release")},
		{"/admin/quality/:id/reject", admin.Operator, "reject", 303, quarantine("reject")},
		{"/admin/pairs/suspend", admin.Operator, "suspend-pair", 303, fixed("/admin/pairs/suspend", pair)},
		{"/admin/pairs/resume", admin.Operator, "resume-pair", 303, fixed("/admin/pairs/resume", pair)},
		{"/admin/keys", admin.Admin, "apikey-create", 201, fixed("/admin/keys", url.Values{"name": {"shop"}, "scope-convert": {"on"}})},
		{"/admin/keys/:id/revoke", admin.Admin, "apikey-revoke", 303, func(t *testing.T, c *console, n int) (string, url.Values) {
			k, _, hash, err := clients.NewKey(fmt.Sprintf("key %d", n), clients.DefaultScopes, 0, "test", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.st.Keys.CreateAPIKey(context.Background(), k, hash); err != nil {
				t.Fatal(err)
			}
			return "/admin/keys/" + k.ID + "/revoke", url.Values{"reason": {"role test"}}
		}},
		{"/admin/users", admin.Admin, "user-create", 303, func(_ *testing.T, _ *console, n int) (string, url.Values) {
			return "/admin/users", url.Values{"username": {fmt.Sprintf("new-%d", n)}, "password": {testPassword}, "role": {"viewer"}}
		}},
		{"/admin/users/:id/role", admin.Admin, "user-role", 303, user("role", url.Values{"role": {"viewer"}, "reason": {"role test"}}, false)},
		{"/admin/users/:id/disable", admin.Admin, "user-disable", 303, user("disable", url.Values{"reason": {"role test"}}, false)},
		{"/admin/users/:id/enable", admin.Admin, "user-enable", 303, user("enable", url.Values{"reason": {"role test"}}, true)},
	}
}

// TestRolesOnEveryAction sends every action route as each role. A role
// without the power is answered 403 with a message saying why, and
// nothing is written (no admin action either); one with it acts, and the
// action is recorded in admin_actions under its name. A POST route that
// this table does not list fails the test, so a new action cannot ship
// without a decision on who may use it.
func TestRolesOnEveryAction(t *testing.T) {
	c := newConsole(t, func(d *admin.Deps) { d.Verifications = verifier{} })
	routes := actionRoutes()
	var listed, mounted []string
	for _, r := range routes {
		listed = append(listed, r.route)
	}
	for _, r := range c.app.GetRoutes(true) {
		if r.Method == http.MethodPost && r.Path != "/admin/login" && r.Path != "/admin/logout" {
			mounted = append(mounted, r.Path)
		}
	}
	slices.Sort(listed)
	slices.Sort(mounted)
	if !slices.Equal(slices.Compact(listed), slices.Compact(mounted)) {
		t.Fatalf("action routes mounted:\n%s\nlisted in this test:\n%s", strings.Join(mounted, "\n"), strings.Join(listed, "\n"))
	}

	members := c.members(t)
	n := 0
	for _, r := range routes {
		for _, m := range members {
			allowed := m.role == r.least || (m.role == admin.Admin)
			t.Run(strings.TrimPrefix(r.route, "/admin/")+"/"+string(m.role), func(t *testing.T) {
				path, form := r.target(t, c, n)
				n++
				form.Set("csrf", m.csrf)
				before := c.writes(t)
				resp := c.do(t, "POST", path, form, m.ck)
				if !allowed {
					if resp.status != 403 || !strings.Contains(resp.body, "forbidden: "+m.name+" has the "+string(m.role)+" role") || !strings.Contains(resp.body, "Nothing was done") {
						t.Fatalf("%s as %s: %d %q, want 403 naming the role", path, m.role, resp.status, brief(resp.body))
					}
					if after := c.writes(t); after != before {
						t.Fatalf("a refused %s wrote:\nbefore %s\nafter  %s", path, before, after)
					}
					return
				}
				if resp.status != r.ok {
					t.Fatalf("%s as %s: %d, want %d: %q", path, m.role, resp.status, r.ok, brief(resp.body))
				}
				acts := c.actions(t)
				if len(acts) == 0 || acts[0].Username != m.name || acts[0].Action != r.action || strings.HasPrefix(acts[0].Outcome, "failed") {
					t.Fatalf("newest admin action %+v, want %s by %s, not failed", acts, r.action, m.name)
				}
			})
		}
	}
}

// brief is what a failure message shows of a response body: a page's
// error, or the body's start, with any API key in it masked (a test's
// output must not carry one).
func brief(body string) string {
	body = apiKey.ReplaceAllString(body, "ces_…")
	if _, alert, ok := strings.Cut(body, `role="alert">`); ok {
		body, _, _ = strings.Cut(alert, "</p>")
	}
	if len(body) > 300 {
		return body[:300] + "…"
	}
	return body
}

var apiKey = regexp.MustCompile(`ces_[A-Za-z0-9_-]{20,}`)

// postForm finds the action forms of a page, the sign-out form aside.
var postForm = regexp.MustCompile(`<form method="post" action="(/admin/[^"]*)"`)

// TestPagesShowOnlyTheRoleActions: every role reads every page, and sees
// only the forms of the actions its role may use.
func TestPagesShowOnlyTheRoleActions(t *testing.T) {
	c := newConsole(t, func(d *admin.Deps) { d.Verifications = verifier{} })
	held(t, c.st, "CHF")
	if err := c.st.Quality.SetSuspension(context.Background(), "EUR", "USD", true, "page test", "test"); err != nil {
		t.Fatal(err)
	}
	k, _, hash, _ := clients.NewKey("shop", clients.DefaultScopes, 0, "test", time.Now())
	if err := c.st.Keys.CreateAPIKey(context.Background(), k, hash); err != nil {
		t.Fatal(err)
	}
	members := c.members(t)
	for _, tt := range []struct {
		page string
		// forms are the action forms shown to a viewer, an operator and an
		// admin (a count of form actions with this prefix).
		prefix string
		forms  [3]int
	}{
		{"/admin/", "/admin/ingestion/", [3]int{0, 2, 2}},
		{"/admin/quality", "/admin/", [3]int{0, 4, 4}},
		{"/admin/integrity", "/admin/integrity/verify", [3]int{0, 1, 1}},
		{"/admin/keys", "/admin/keys", [3]int{0, 0, 2}},
		{"/admin/users", "/admin/users", [3]int{0, 0, 5}},
		{"/admin/rates", "/admin/", [3]int{0, 0, 0}},
	} {
		for i, m := range members {
			t.Run(strings.TrimPrefix(tt.page, "/admin/")+"/"+string(m.role), func(t *testing.T) {
				r := c.do(t, "GET", tt.page, nil, m.ck)
				if r.status != 200 {
					t.Fatalf("%s as %s: %d", tt.page, m.role, r.status)
				}
				var got []string
				for _, f := range postForm.FindAllStringSubmatch(r.body, -1) {
					if f[1] != "/admin/logout" && strings.HasPrefix(f[1], tt.prefix) {
						got = append(got, f[1])
					}
				}
				if len(got) != tt.forms[i] {
					t.Fatalf("%s as %s shows %d action forms %v, want %d", tt.page, m.role, len(got), got, tt.forms[i])
				}
				if readOnly := strings.Contains(r.body, `id="read-only"`); readOnly != (m.role == admin.Viewer) {
					t.Fatalf("%s as %s: read-only note shown %v", tt.page, m.role, readOnly)
				}
			})
		}
	}
}

// TestDisablingAUserEndsItsSessions: an admin disables an operator signed
// in twice; both sessions end at once (their rows deleted with the
// change), the operator's next requests go to the sign-in page and do
// nothing, and its sign-in is refused until it is enabled again.
func TestDisablingAUserEndsItsSessions(t *testing.T) {
	c := newConsole(t)
	ctx := context.Background()
	op := c.addUser(t, "op@ces", admin.Operator)
	ck1, token1 := c.sessionAs(t, op.Username)
	ck2, _ := c.sessionAs(t, op.Username)
	boss, bossToken := c.session(t)
	sessions := func() int {
		var n int
		if err := c.st.DB().QueryRowContext(ctx, "SELECT count(*) FROM admin_sessions WHERE user_id = ?", op.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sessions(); n != 2 {
		t.Fatalf("op has %d sessions, want 2", n)
	}
	disable := fmt.Sprintf("/admin/users/%d/disable", op.ID)
	if r := c.do(t, "POST", disable, url.Values{"reason": {"left the team"}, "csrf": {bossToken}}, boss); r.status != 303 {
		t.Fatalf("disable: %d %q", r.status, brief(r.body))
	}
	if n := sessions(); n != 0 {
		t.Fatalf("op has %d sessions after the disable, want 0", n)
	}
	for _, ck := range []*http.Cookie{ck1, ck2} {
		if r := c.do(t, "GET", "/admin/", nil, ck); r.status != 303 || r.header.Get("Location") != "/admin/login" {
			t.Fatalf("a disabled user's page: %d to %q, want the sign-in page", r.status, r.header.Get("Location"))
		}
	}
	if r := c.do(t, "POST", "/admin/ingestion/pause", url.Values{"provider": {"ecb"}, "reason": {"x"}, "csrf": {token1}}, ck1); r.status != 303 || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("a disabled user's pause: %d to %q", r.status, r.header.Get("Location"))
	}
	if s, err := c.ctrl.Status(ctx); err != nil || s.Paused {
		t.Fatalf("a disabled user paused the schedule: %+v %v", s, err)
	}
	r := c.signInAs(t, op.Username, testPassword)
	if r.status != 403 || !strings.Contains(r.body, "disabled") || cookie(r, "ces_session") != nil {
		t.Fatalf("a disabled user's sign-in: %d %q", r.status, brief(r.body))
	}
	if n := sessions(); n != 0 {
		t.Fatalf("a refused sign-in made a session")
	}
	if r := c.do(t, "POST", fmt.Sprintf("/admin/users/%d/enable", op.ID), url.Values{"reason": {"came back"}, "csrf": {bossToken}}, boss); r.status != 303 {
		t.Fatalf("enable: %d %q", r.status, brief(r.body))
	}
	if r := c.signInAs(t, op.Username, testPassword); r.status != 303 || cookie(r, "ces_session") == nil {
		t.Fatalf("sign-in after enabling: %d", r.status)
	}
	var got []string
	for _, a := range c.actions(t) {
		got = append(got, a.Username+" "+a.Action+" "+a.Target+" "+a.Reason+" "+a.Outcome)
	}
	if want := []string{testUser + " user-enable user op@ces came back ok", testUser + " user-disable user op@ces left the team ok"}; !slices.Equal(got, want) {
		t.Fatalf("admin actions %q, want %q", got, want)
	}
}

// TestRoleChangeTakesEffectOnTheNextRequest: a role change keeps the
// user's sessions, but the session's powers are read anew on each
// request, so a demoted operator's open page can no longer act and a
// promoted one can at once.
func TestRoleChangeTakesEffectOnTheNextRequest(t *testing.T) {
	c := newConsole(t)
	op := c.addUser(t, "op@ces", admin.Operator)
	ck, token := c.sessionAs(t, op.Username)
	boss, bossToken := c.session(t)
	suspend := url.Values{"base": {"EUR"}, "quote": {"USD"}, "reason": {"check"}, "csrf": {token}}
	setRole := func(role admin.Role) {
		t.Helper()
		r := c.do(t, "POST", fmt.Sprintf("/admin/users/%d/role", op.ID), url.Values{"role": {string(role)}, "reason": {"role test"}, "csrf": {bossToken}}, boss)
		if r.status != 303 {
			t.Fatalf("set role %s: %d %q", role, r.status, brief(r.body))
		}
	}
	key := url.Values{"name": {"shop"}, "scope-convert": {"on"}, "csrf": {token}}
	for _, tt := range []struct {
		role          admin.Role
		suspend, keys int
	}{
		{admin.Operator, 303, 403},
		{admin.Viewer, 403, 403},
		{admin.Admin, 303, 201},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			if tt.role != admin.Operator {
				setRole(tt.role)
			}
			if r := c.do(t, "GET", "/admin/", nil, ck); r.status != 200 || !strings.Contains(r.body, `id="role">`+string(tt.role)+"<") {
				t.Fatalf("the session after the change: %d, want the page naming %s", r.status, tt.role)
			}
			if r := c.do(t, "POST", "/admin/pairs/suspend", suspend, ck); r.status != tt.suspend {
				t.Fatalf("suspend as %s: %d, want %d", tt.role, r.status, tt.suspend)
			}
			if r := c.do(t, "POST", "/admin/keys", key, ck); r.status != tt.keys {
				t.Fatalf("create a key as %s: %d, want %d", tt.role, r.status, tt.keys)
			}
		})
	}
}

// TestUserManagementRefusals: what the Users page refuses, and whether
// the refusal is recorded (a refusal by the store is, like any outcome
// of an action; a form that is not even valid, or a change of oneself, is
// not).
func TestUserManagementRefusals(t *testing.T) {
	c := newConsole(t)
	boss, token := c.session(t)
	self, _, err := c.st.Console.AdminCredentials(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	other := c.addUser(t, "other@ces", admin.Viewer)
	userPath := func(id int64, verb string) string { return fmt.Sprintf("/admin/users/%d/%s", id, verb) }
	for _, tt := range []struct {
		name     string
		path     string
		form     url.Values
		want     int
		recorded string // the outcome recorded, "" for none
	}{
		{"bad username", "/admin/users", url.Values{"username": {"a b"}, "password": {testPassword}, "role": {"viewer"}}, 400, ""},
		{"short password", "/admin/users", url.Values{"username": {"ann"}, "password": {"short"}, "role": {"viewer"}}, 400, ""},
		{"unknown role", "/admin/users", url.Values{"username": {"ann"}, "password": {testPassword}, "role": {"root"}}, 400, ""},
		{"taken username", "/admin/users", url.Values{"username": {"other@ces"}, "password": {testPassword}, "role": {"viewer"}}, 409, "failed: store: admin user already exists"},
		{"own role", userPath(self.ID, "role"), url.Values{"role": {"viewer"}, "reason": {"x"}}, 403, ""},
		{"disable oneself", userPath(self.ID, "disable"), url.Values{"reason": {"x"}}, 403, ""},
		{"role without a reason", userPath(other.ID, "role"), url.Values{"role": {"operator"}}, 400, "failed: store: a reason is required"},
		{"unknown role for a user", userPath(other.ID, "role"), url.Values{"role": {"root"}, "reason": {"x"}}, 400, ""},
		{"unknown user", userPath(1<<40, "disable"), url.Values{"reason": {"x"}}, 404, "failed: store: not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := c.writes(t)
			tt.form.Set("csrf", token)
			r := c.do(t, "POST", tt.path, tt.form, boss)
			if r.status != tt.want {
				t.Fatalf("%d, want %d: %q", r.status, tt.want, brief(r.body))
			}
			if tt.recorded == "" {
				if after := c.writes(t); after != before {
					t.Fatalf("a refusal wrote:\nbefore %s\nafter  %s", before, after)
				}
				return
			}
			if acts := c.actions(t); len(acts) == 0 || acts[0].Outcome != tt.recorded {
				t.Fatalf("newest action %+v, want outcome %q", acts, tt.recorded)
			}
		})
	}
	if u, err := c.st.Console.AdminUser(context.Background(), self.ID); err != nil || u.Role != store.RoleAdmin || u.Disabled {
		t.Fatalf("the admin after the refusals: %+v %v", u, err)
	}
}
