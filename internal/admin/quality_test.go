package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/admin"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/store"
)

// quarantine stores an ECB day, then a day where JPY arrives as 1.49
// instead of 149 and GBP as 0.085 instead of 0.85: two quarantines.
func quarantine(t *testing.T, st *store.Store) (jpy, gbp store.Quarantine) {
	t.Helper()
	ctx := context.Background()
	d1 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: d2, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	set := func(at time.Time, rates map[string]string) fx.RateSet {
		s := fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: at, PayloadHash: strings.Repeat("a", 64)}
		for q, v := range rates {
			s.Rates = append(s.Rates, fx.QuotedRate{Quote: q, Value: decimal.RequireFromString(v)})
		}
		return s
	}
	if _, err := st.Rates.InsertRates(ctx, set(d1, map[string]string{"JPY": "149.00", "GBP": "0.8500", "USD": "1.0540"}), gated); err != nil {
		t.Fatal(err)
	}
	res, err := st.Rates.InsertRates(ctx, set(d2, map[string]string{"JPY": "1.49", "GBP": "0.0850", "USD": "1.0565"}), gated)
	if err != nil || len(res.Quarantined) != 2 {
		t.Fatalf("insert = %+v, %v; want 2 quarantines", res, err)
	}
	for _, q := range res.Quarantined {
		switch q.Rate.Quote {
		case "JPY":
			jpy = q
		case "GBP":
			gbp = q
		}
	}
	return jpy, gbp
}

// servable returns the priced value of each EUR quote.
func servable(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	rs, err := st.Rates.LatestServable(context.Background(), nil, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rs {
		out[r.Quote] = fx.Exact(r.Value)
	}
	return out
}

// actions returns the recorded admin actions, newest first.
func (c *console) actions(t *testing.T) []store.AdminAction {
	t.Helper()
	acts, err := c.st.Console.AdminActions(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

func TestQualityPageListsHeldRates(t *testing.T) {
	c := newConsole(t)
	jpy, _ := quarantine(t, c.st)
	ck, _ := c.session(t)
	dash := c.do(t, "GET", "/admin/", nil, ck)
	if !strings.Contains(dash.body, "2 quarantined rates await a decision") || !strings.Contains(dash.body, `href="/admin/quality"`) {
		t.Fatalf("dashboard does not announce the held rates:\n%s", dash.body)
	}
	r := c.do(t, "GET", "/admin/quality", nil, ck)
	if r.status != 200 {
		t.Fatalf("quality page: %d", r.status)
	}
	for _, want := range []string{
		fmt.Sprintf(`id="quarantine-%d"`, jpy.ID), "EUR/JPY", ">1.49<", ">149.00<", "previous ecb rate", "99.00%", "limit 25.00%",
		fmt.Sprintf(`action="/admin/quality/%d/release"`, jpy.ID), fmt.Sprintf(`action="/admin/quality/%d/reject"`, jpy.ID),
		`<label>Why release <input name="reason"`, `name="csrf" value="`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("quality page lacks %q", want)
		}
	}
}

func TestDecideQuarantine(t *testing.T) {
	c := newConsole(t)
	jpy, gbp := quarantine(t, c.st)
	ck, token := c.session(t)
	path := func(q store.Quarantine, verb string) string { return fmt.Sprintf("/admin/quality/%d/%s", q.ID, verb) }
	tests := []struct {
		name       string
		path       string
		form       url.Values
		want       int
		q          store.Quarantine
		wantStatus string // of q afterwards
		// wantAction is the newest admin action's action and outcome
		// prefix afterwards; empty when nothing may be recorded.
		wantAction, wantOutcome string
	}{
		{"missing CSRF token", path(jpy, "release"), url.Values{"reason": {"checked"}}, 403, jpy, "held", "", ""},
		{"wrong CSRF token", path(jpy, "release"), url.Values{"reason": {"checked"}, "csrf": {strings.Repeat("f", 64)}}, 403, jpy, "held", "", ""},
		{"release without a reason", path(jpy, "release"), url.Values{"reason": {"  "}, "csrf": {token}}, 400, jpy, "held", "release", "failed: store: a reason is required"},
		{"release", path(jpy, "release"), url.Values{"reason": {"checked against the ECB page"}, "csrf": {token}}, 303, jpy, "released", "release", "ok"},
		{"release twice", path(jpy, "release"), url.Values{"reason": {"again"}, "csrf": {token}}, 409, jpy, "released", "release", "failed: store: the quarantine was already decided"},
		{"reject", path(gbp, "reject"), url.Values{"reason": {"misplaced decimal point"}, "csrf": {token}}, 303, gbp, "rejected", "reject", "ok"},
		{"release after reject", path(gbp, "release"), url.Values{"reason": {"changed my mind"}, "csrf": {token}}, 409, gbp, "rejected", "release", "failed: store: the quarantine was already decided"},
		{"unknown quarantine", "/admin/quality/999999/release", url.Values{"reason": {"checked"}, "csrf": {token}}, 404, jpy, "released", "release", "failed: store: no such quarantine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(c.actions(t))
			r := c.do(t, "POST", tt.path, tt.form, ck)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if r.status == 303 && !strings.HasPrefix(r.header.Get("Location"), "/admin/quality?flash=") {
				t.Fatalf("redirected to %q", r.header.Get("Location"))
			}
			q, err := c.st.Quality.Quarantine(context.Background(), tt.q.ID)
			if err != nil || q.Status != tt.wantStatus {
				t.Fatalf("quarantine %d is %q (%v), want %q", tt.q.ID, q.Status, err, tt.wantStatus)
			}
			acts := c.actions(t)
			if tt.wantAction == "" {
				if len(acts) != before {
					t.Fatalf("a refused request was recorded: %+v", acts[0])
				}
				return
			}
			if len(acts) != before+1 {
				t.Fatalf("%d actions recorded, want 1", len(acts)-before)
			}
			a := acts[0]
			if a.Action != tt.wantAction || !strings.HasPrefix(a.Outcome, tt.wantOutcome) || a.Username != testUser ||
				a.Reason != strings.TrimSpace(tt.form.Get("reason")) || !strings.HasPrefix(a.Target, "quarantine ") {
				t.Fatalf("recorded %+v", a)
			}
		})
	}
	acts := c.actions(t)
	var targets []string
	for _, a := range acts {
		if a.Outcome == "ok" {
			targets = append(targets, a.Target)
		}
	}
	if want := []string{fmt.Sprintf("quarantine %d (ecb EUR/GBP 0.0850)", gbp.ID), fmt.Sprintf("quarantine %d (ecb EUR/JPY 1.49)", jpy.ID)}; !slices.Equal(targets, want) {
		t.Fatalf("targets = %q, want %q", targets, want)
	}
	if got := servable(t, c.st); got["JPY"] != "1.49" || got["GBP"] != "0.8500" {
		t.Fatalf("servable = %v, want the released JPY 1.49 and the previous GBP 0.8500", got)
	}
	// The release and the rejection each republish: both end a review.
	if resynced, _ := c.rates.calls(); !slices.Equal(resynced, []string{"ecb", "ecb"}) {
		t.Fatalf("Resync calls = %v, want two for ecb (the rejection, the release)", resynced)
	}
	page := c.do(t, "GET", "/admin/quality", nil, ck)
	if !strings.Contains(page.body, "No rate awaits a decision") || !strings.Contains(page.body, "misplaced decimal point") {
		t.Fatalf("quality page after the decisions:\n%s", page.body)
	}
}

func TestSuspendPair(t *testing.T) {
	c := newConsole(t)
	ck, token := c.session(t)
	tests := []struct {
		name        string
		path        string
		form        url.Values
		want        int
		wantPairs   []string // suspended afterwards
		wantOutcome string   // of the recorded action; empty: none recorded
		wantSyncs   int
	}{
		{"missing CSRF token", "/admin/pairs/suspend", url.Values{"base": {"NGN"}, "quote": {"USD"}, "reason": {"x"}}, 403, nil, "", 0},
		{"same code twice", "/admin/pairs/suspend", url.Values{"base": {"USD"}, "quote": {"usd"}, "reason": {"x"}, "csrf": {token}}, 400, nil, "", 0},
		{"unknown code", "/admin/pairs/suspend", url.Values{"base": {"NGN"}, "quote": {"XYZ"}, "reason": {"x"}, "csrf": {token}}, 400, nil, "", 0},
		{"no reason", "/admin/pairs/suspend", url.Values{"base": {"NGN"}, "quote": {"USD"}, "csrf": {token}}, 400, nil, "failed: store: a reason is required", 0},
		{"suspend", "/admin/pairs/suspend", url.Values{"base": {"ngn"}, "quote": {"USD"}, "reason": {"parallel market chaos"}, "csrf": {token}}, 303, []string{"NGN/USD"}, "ok", 1},
		{"resume without a reason", "/admin/pairs/resume", url.Values{"base": {"NGN"}, "quote": {"USD"}, "csrf": {token}}, 400, []string{"NGN/USD"}, "failed: store: a reason is required", 1},
		{"resume", "/admin/pairs/resume", url.Values{"base": {"NGN"}, "quote": {"USD"}, "reason": {"rates settled"}, "csrf": {token}}, 303, nil, "ok", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(c.actions(t))
			r := c.do(t, "POST", tt.path, tt.form, ck)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			list, err := c.st.Quality.Suspensions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var pairs []string
			for _, s := range list {
				pairs = append(pairs, s.Base+"/"+s.Quote)
			}
			if !slices.Equal(pairs, tt.wantPairs) {
				t.Fatalf("suspended %v, want %v", pairs, tt.wantPairs)
			}
			if _, syncs := c.rates.calls(); syncs != tt.wantSyncs {
				t.Fatalf("SyncSuspensions called %d times, want %d", syncs, tt.wantSyncs)
			}
			acts := c.actions(t)
			switch {
			case tt.wantOutcome == "" && len(acts) != before:
				t.Fatalf("recorded %+v", acts[0])
			case tt.wantOutcome == "":
			case len(acts) != before+1 || acts[0].Outcome != tt.wantOutcome || acts[0].Target != "pair NGN/USD" ||
				acts[0].Action != map[string]string{"/admin/pairs/suspend": "suspend-pair", "/admin/pairs/resume": "resume-pair"}[tt.path]:
				t.Fatalf("recorded %+v", acts[:len(acts)-before])
			}
		})
	}
}

func TestUnknownProviderIsRefused(t *testing.T) {
	c := newConsole(t)
	ck, token := c.session(t)
	for _, tt := range []struct {
		name, path, provider string
	}{
		{"trigger", "/admin/ingestion/trigger", "nope"},
		{"trigger without provider", "/admin/ingestion/trigger", ""},
		{"pause", "/admin/ingestion/pause", "nope"},
		{"resume", "/admin/ingestion/resume", "ECB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(t, "POST", tt.path, url.Values{"provider": {tt.provider}, "reason": {"test"}, "csrf": {token}}, ck)
			if r.status != 400 || !strings.Contains(r.body, "unknown provider") {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if acts := c.actions(t); len(acts) != 0 {
				t.Fatalf("recorded %+v", acts)
			}
		})
	}
	if st, err := c.ctrl.Status(context.Background()); err != nil || st.Paused {
		t.Fatalf("schedule after refused requests: %+v %v", st, err)
	}
}

func TestHumanAge(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{7*time.Second + 400*time.Millisecond, "7s"},
		{12*time.Minute + 5*time.Second, "12m 5s"},
		{2 * time.Hour, "2h"},
		{3*24*time.Hour + 4*time.Hour + 59*time.Minute, "3d 4h"},
		{85358*time.Hour + 35*time.Minute, "3556d 14h"},
		{-time.Minute, "in the future"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			if got := admin.HumanAge(tt.in); got != tt.want {
				t.Fatalf("HumanAge(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestQualityPageShowsConsensus holds an outlier among four compilers'
// USD/KES of one day and checks that the page names the check, the
// median, the MAD and each publisher's value, and that a decision
// records the figures the form sent (and refuses others).
func TestQualityPageShowsConsensus(t *testing.T) {
	c := newConsole(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: at, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	var held store.Quarantine
	for i, v := range []string{"129.0", "129.1", "128.9", "129.2", "154.8"} {
		p := []string{"imf", "bdi", "oxr", "wise", "boe"}[i]
		set := fx.RateSet{Provider: p, Base: "USD", AsOf: at, PayloadHash: strings.Repeat("b", 64),
			Rates: []fx.QuotedRate{{Quote: "KES", Value: decimal.RequireFromString(v)}}}
		res, err := c.st.Rates.InsertRates(ctx, set, gated)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Quarantined) > 0 {
			held = res.Quarantined[0]
		}
	}
	if held.Rate.Provider != "boe" {
		t.Fatalf("held %+v, want the Bank of England's 154.8", held)
	}
	held, err := c.st.Quality.Quarantine(ctx, held.ID)
	if err != nil {
		t.Fatal(err)
	}
	ck, token := c.session(t)
	page := c.do(t, "GET", "/admin/quality", nil, ck)
	for _, want := range []string{
		"consensus: the other publishers&#39; values of KES that day", "median of 4 other publishers&#39; KES in USD",
		"1 KES = <span class=\"num\">" + held.Value.String() + "</span> USD", held.Median.String(), held.MAD.String(), "limit max(10 × MAD, 5.00% of the median)",
		">imf<", ">bdi<", ">oxr<", ">wise<", `name="figures"`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("quality page lacks %q", want)
		}
	}
	release := fmt.Sprintf("/admin/quality/%d/release", held.ID)
	if r := c.do(t, "POST", release, url.Values{"reason": {"checked"}, "csrf": {token}, "figures": {"held something else"}}, ck); r.status != 409 {
		t.Fatalf("a release on other figures: %d, want 409", r.status)
	}
	if r := c.do(t, "POST", release, url.Values{"reason": {"checked with the publisher"}, "csrf": {token}, "figures": {held.Figures()}}, ck); r.status != 303 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	q, err := c.st.Quality.Quarantine(ctx, held.ID)
	if err != nil || q.Status != store.QuarantineReleased || q.DecidedOn != held.Figures() {
		t.Fatalf("quarantine after release %+v, %v; want released on %q", q, err, held.Figures())
	}
	page = c.do(t, "GET", "/admin/quality", nil, ck)
	if !strings.Contains(page.body, "median of 4 other publishers") || !strings.Contains(page.body, "held boe USD/KES 154.8") {
		t.Errorf("recent decisions do not show the figures decided on:\n%s", page.body)
	}
}
