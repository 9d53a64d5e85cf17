package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ces/internal/audit"
	"ces/internal/provider/cbn"
	"ces/internal/provider/ecb"
	"ces/internal/rates"
)

// twoSourceWorld serves the ECB's recorded 90-day history (2017) and the
// CBN's recorded GetAllExchangeRates (May 2026) together.
func twoSourceWorld(t *testing.T, o options) *world {
	t.Helper()
	o.providers = []string{ecb.Name, cbn.Name}
	if o.now.IsZero() {
		o.now = time.Date(2026, 5, 22, 9, 0, 0, 0, time.UTC)
	}
	if o.maxAge == 0 {
		o.maxAge = 100000 * time.Hour // the ECB recording is years old
	}
	w := newWorld(t, o)
	w.ingest(t, ecbHistory(t)...)
	sets, err := cbn.Parse(cbn.Name, readFixture(t, "cbn/GetAllExchangeRates.json"))
	if err != nil {
		t.Fatal(err)
	}
	w.ingest(t, sets...)
	return w
}

type rateBody struct {
	Rate     string `json:"rate"`
	Provider string `json:"provider"`
	Rule     string `json:"rule"`
	Via      string `json:"via"`
	Stale    bool   `json:"stale"`
	Legs     []struct {
		Provider string `json:"provider"`
		Base     string `json:"base"`
		Quote    string `json:"quote"`
		Rate     string `json:"rate"`
	} `json:"legs"`
}

func TestRatesAcrossProviders(t *testing.T) {
	w := twoSourceWorld(t, options{})
	tests := []struct {
		name, query          string
		status               int
		rule, provider, rate string
		legProviders         []string
		errCode              string
	}{
		{name: "USD→NGN from the CBN's own USD row", query: "from=USD&to=NGN", status: 200, rule: "direct", provider: "cbn", rate: "1371.8079", legProviders: []string{"cbn"}},
		{name: "NGN→USD inverts it", query: "from=NGN&to=USD", status: 200, rule: "inverse", provider: "cbn", rate: "0.00072896503949277446208", legProviders: []string{"cbn"}},
		{name: "EUR→SEK from the ECB", query: "from=EUR&to=SEK", status: 200, rule: "direct", provider: "ecb", rate: "9.5375", legProviders: []string{"ecb"}},
		// The ECB recording is from 2017, stale on 2026-05-22: where the
		// CBN's fresh rates can price a pair, they win over it.
		{name: "GBP→JPY through the CBN's NGN: the stale ECB yields", query: "from=GBP&to=JPY", status: 200, rule: "cross", provider: "cbn", legProviders: []string{"cbn", "cbn"}},
		{name: "EUR→USD too, although the ECB quotes it directly", query: "from=EUR&to=USD", status: 200, rule: "cross", provider: "cbn", legProviders: []string{"cbn", "cbn"}},
		{name: "pinned to the ECB, its stale direct rate", query: "from=EUR&to=USD&provider=ecb", status: 200, rule: "direct", provider: "ecb", rate: "1.0565", legProviders: []string{"ecb"}},
		{name: "GBP→SEK: only the stale ECB can price it", query: "from=GBP&to=SEK", status: 200, rule: "cross", provider: "ecb", legProviders: []string{"ecb", "ecb"}},
		{name: "SEK→NGN across providers", query: "from=SEK&to=NGN", status: 200, rule: "cross_provider", provider: "ecb+cbn", rate: "166.73129226736566186", legProviders: []string{"ecb", "cbn"}},
		{name: "pinned to the ECB, NGN has no price", query: "from=USD&to=NGN&provider=ecb", status: 404, errCode: "rate_not_found"},
		{name: "pinned to the CBN, GBP→USD crosses NGN", query: "from=GBP&to=USD&provider=cbn", status: 200, rule: "cross", provider: "cbn", legProviders: []string{"cbn", "cbn"}},
		{name: "a provider CES does not serve", query: "from=USD&to=NGN&provider=yahoo", status: 400, errCode: "invalid_parameter"},
		{name: "at= in force then, across providers", query: "from=SEK&to=NGN&at=2026-05-20", status: 200, rule: "cross_provider", provider: "ecb+cbn", legProviders: []string{"ecb", "cbn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.get(t, "/api/v1/rates?"+tt.query)
			if r.Status != tt.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tt.status)
			}
			if tt.errCode != "" {
				if !strings.Contains(string(r.Body), `"`+tt.errCode+`"`) {
					t.Fatalf("body %s lacks %s", r.Body, tt.errCode)
				}
				return
			}
			var b rateBody
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			if b.Rule != tt.rule || b.Provider != tt.provider || (tt.rate != "" && b.Rate != tt.rate) || len(b.Legs) != len(tt.legProviders) {
				t.Fatalf("got %s", r.Body)
			}
			for i, l := range b.Legs {
				if l.Provider != tt.legProviders[i] {
					t.Fatalf("leg %d names %s, want %s: %s", i, l.Provider, tt.legProviders[i], r.Body)
				}
			}
		})
	}
}

func TestCurrenciesNameTheirProviders(t *testing.T) {
	w := twoSourceWorld(t, options{})
	r := w.get(t, "/api/v1/currencies")
	var body struct {
		Currencies []struct {
			Code      string   `json:"code"`
			Providers []string `json:"providers"`
			Since     string   `json:"since"`
		} `json:"currencies"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	got, since := map[string]string{}, map[string]string{}
	for _, c := range body.Currencies {
		got[c.Code] = strings.Join(c.Providers, ",")
		since[c.Code] = c.Since
	}
	// Since when: the first row stored of it by either, the ECB's 90 days
	// from 2016-12-05 or the CBN's week from 2026-05-14.
	for code, want := range map[string]string{"SEK": "2016-12-05T15:00:00Z", "EUR": "2016-12-05T15:00:00Z", "NGN": "2026-05-14T16:00:00Z", "XOF": "2026-05-14T16:00:00Z"} {
		if since[code] != want {
			t.Errorf("%s since = %q, want %q", code, since[code], want)
		}
	}
	for code, want := range map[string]string{"NGN": "cbn", "EUR": "cbn,ecb", "USD": "cbn,ecb", "SEK": "ecb", "XOF": "cbn"} {
		if got[code] != want {
			t.Errorf("%s providers = %q, want %q", code, got[code], want)
		}
	}
}

func TestHistoryAcrossProviders(t *testing.T) {
	w := twoSourceWorld(t, options{})
	r := w.get(t, "/api/v1/rates/history?from=USD&to=NGN&start=2026-05-14&end=2026-05-21")
	var body struct {
		Provider, Rule string
		Points         []struct {
			Rate string `json:"rate"`
			AsOf string `json:"as_of"`
			Legs []struct {
				Provider string `json:"provider"`
			} `json:"legs"`
		} `json:"points"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// The CBN published on six days in the recording.
	if body.Rule != "direct" || body.Provider != "cbn" || len(body.Points) != 6 || body.Points[5].Rate != "1371.8079" || body.Points[0].Legs[0].Provider != "cbn" {
		t.Fatalf("history = %s", r.Body)
	}
}

// TestWithdrawnCurrenciesAreRefusedConsistently: a latest lookup and a
// conversion refuse a withdrawn code with the same error; at= and history
// still serve it for the dates it existed.
func TestWithdrawnCurrenciesAreRefusedConsistently(t *testing.T) {
	w := newWorld(t, options{maxAge: 100000 * time.Hour})
	daily, err := ecb.Parse(ecb.Name, readFixture(t, "ecb/eurofxref-daily-2014-06-10.xml"))
	if err != nil {
		t.Fatal(err)
	}
	w.ingest(t, daily...)
	tests := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"latest LTL", "GET", "/api/v1/rates?from=EUR&to=LTL", "", 400, "invalid_currency"},
		{"latest BGN, withdrawn since 2026", "GET", "/api/v1/rates?from=BGN&to=EUR", "", 400, "invalid_currency"},
		{"every quote of LTL", "GET", "/api/v1/rates?from=LTL", "", 400, "invalid_currency"},
		{"conversion to LTL", "POST", "/api/v1/convert", `{"amount":"10.00","from_currency":"EUR","to_currency":"LTL"}`, 400, "invalid_currency"},
		{"at= the day LTL existed", "GET", "/api/v1/rates?from=EUR&to=LTL&at=2014-06-10", "", 200, ""},
		{"history of LTL", "GET", "/api/v1/rates/history?from=EUR&to=LTL&start=2014-06-01&end=2014-06-30", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.do(t, tt.method, tt.target, tt.body, "Content-Type", "application/json")
			if r.Status != tt.status || (tt.code != "" && !strings.Contains(string(r.Body), `"`+tt.code+`"`)) {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
		})
	}
	// The list of EUR's quotes leaves the withdrawn ones out.
	if r := w.get(t, "/api/v1/rates?from=EUR"); r.Status != 200 || strings.Contains(string(r.Body), `"LTL"`) || strings.Contains(string(r.Body), `"BGN"`) {
		t.Fatalf("all from EUR: %d %s", r.Status, r.Body)
	}
	if n := w.auditRows(t); n != 0 {
		t.Fatalf("%d conversions recorded, want none", n)
	}
}

func TestSuspendedPair(t *testing.T) {
	w := twoSourceWorld(t, options{})
	ctx := context.Background()
	convert := `{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`
	if err := w.st.Quality.SetSuspension(ctx, "NGN", "USD", true, "CBN publication under review", "ops"); err != nil {
		t.Fatal(err)
	}
	if err := w.rates.SyncSuspensions(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		do     func() response
		status int
	}{
		{"latest", func() response { return w.get(t, "/api/v1/rates?from=USD&to=NGN") }, 503},
		{"the other way round", func() response { return w.get(t, "/api/v1/rates?from=NGN&to=USD") }, 503},
		{"conversion", func() response { return w.post(t, "/api/v1/convert", convert) }, 503},
		{"at= still answers", func() response { return w.get(t, "/api/v1/rates?from=USD&to=NGN&at=2026-05-21") }, 200},
		{"another pair", func() response { return w.get(t, "/api/v1/rates?from=USD&to=GBP") }, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.Status != tt.status || (tt.status == 503 && !strings.Contains(string(r.Body), `"pair_suspended"`)) {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tt.status)
			}
		})
	}
	if n := w.auditRows(t); n != 0 {
		t.Fatalf("%d conversions recorded while suspended", n)
	}
	if err := w.st.Quality.SetSuspension(ctx, "USD", "NGN", false, "reviewed", "ops"); err != nil {
		t.Fatal(err)
	}
	if err := w.rates.SyncSuspensions(ctx); err != nil {
		t.Fatal(err)
	}
	r := w.post(t, "/api/v1/convert", convert)
	if r.Status != 201 {
		t.Fatalf("after resume: %d %s", r.Status, r.Body)
	}
	rc := decodeReceipt(t, r)
	if rc.MidRate != "1371.8079" {
		t.Fatalf("receipt = %+v", rc)
	}
	var full struct {
		Rule string `json:"rule"`
		Legs []struct {
			Provider string `json:"provider"`
		} `json:"legs"`
	}
	if err := json.Unmarshal(r.Body, &full); err != nil || full.Rule != "direct" || len(full.Legs) != 1 || full.Legs[0].Provider != "cbn" {
		t.Fatalf("receipt rule/legs: %s", r.Body)
	}
	if stored, err := w.st.Conversions.ConversionByID(ctx, rc.ID); err != nil || stored.Rule != "direct" || audit.ReceiptHash(stored) != rc.Hash {
		t.Fatalf("stored receipt %+v, %v", stored, err)
	}
}

// TestSuspendedLegIsNotPriced: a suspended pair is not priced as a leg of
// another pair either.
func TestSuspendedLegIsNotPriced(t *testing.T) {
	w := twoSourceWorld(t, options{})
	ctx := context.Background()
	if err := w.st.Quality.SetSuspension(ctx, "EUR", "NGN", true, "CBN euro row under review", "ops"); err != nil {
		t.Fatal(err)
	}
	if err := w.rates.SyncSuspensions(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, target, body string
		status                     int
		mustNot                    string
	}{
		{"SEK→NGN crossed through EUR/NGN", "GET", "/api/v1/rates?from=SEK&to=NGN", "", 404, `"quote":"NGN","rate":"1590.1997"`},
		{"NGN→SEK the other way", "GET", "/api/v1/rates?from=NGN&to=SEK", "", 404, `"rate":"1590.1997"`},
		{"every quote of SEK", "GET", "/api/v1/rates?from=SEK", "", 200, `"to":"NGN"`},
		{"a conversion that would cross it", "POST", "/api/v1/convert", `{"amount":"100.00","from_currency":"SEK","to_currency":"NGN"}`, 404, ""},
		{"GBP→EUR is still priced, by the ECB", "GET", "/api/v1/rates?from=GBP&to=EUR", "", 200, `"rate":"1590.1997"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.do(t, tt.method, tt.target, tt.body, "Content-Type", "application/json")
			if r.Status != tt.status || (tt.mustNot != "" && strings.Contains(string(r.Body), tt.mustNot)) {
				t.Fatalf("%d %s, want %d without %s", r.Status, r.Body, tt.status, tt.mustNot)
			}
		})
	}
	if n := w.auditRows(t); n != 0 {
		t.Fatalf("%d conversions recorded through a suspended leg", n)
	}
}

// TestLostSuspensionUpdateIsRepaired: when Redis missed a suspension (a
// failed sync, or two operators at once), the cached set is trusted for
// at most rates.SuspensionsMaxAge before PostgreSQL is read again.
func TestLostSuspensionUpdateIsRepaired(t *testing.T) {
	w := twoSourceWorld(t, options{})
	ctx := context.Background()
	if err := w.st.Quality.SetSuspension(ctx, "USD", "NGN", true, "review", "ops"); err != nil {
		t.Fatal(err)
	}
	// Redis still says "nothing suspended", as of now: trusted for a while.
	if err := w.cache.SetSuspensions(ctx, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := w.get(t, "/api/v1/rates?from=USD&to=NGN"); r.Status != 200 {
		t.Fatalf("fresh cached set: %d %s", r.Status, r.Body)
	}
	// The same stale set, read longer ago than the bound: PostgreSQL wins.
	// (A copy older than the cached one is never written over it, so the
	// cached one goes first.)
	if err := w.rdb.Del(ctx, w.prefix+"suspended").Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.cache.SetSuspensions(ctx, nil, time.Now().Add(-rates.SuspensionsMaxAge-time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := w.get(t, "/api/v1/rates?from=USD&to=NGN"); r.Status != 503 || !strings.Contains(string(r.Body), "pair_suspended") {
		t.Fatalf("after the bound: %d %s, want 503 pair_suspended", r.Status, r.Body)
	}
}

// TestInstantsOutOfRange: dates PostgreSQL cannot store or that overflow
// an age are the client's mistake (400), never a 500.
func TestInstantsOutOfRange(t *testing.T) {
	w := twoSourceWorld(t, options{})
	tests := []struct {
		target string
		status int
		cache  string
	}{
		{"/api/v1/rates?from=USD&to=NGN&at=0000-01-01", 400, ""},
		{"/api/v1/rates?from=USD&to=NGN&at=9999-12-31T23:59:59Z", 400, ""},
		{"/api/v1/rates/history?from=USD&to=NGN&start=0000-01-01&end=0000-02-01", 400, ""},
		{"/api/v1/rates/history?from=USD&to=NGN&start=2199-12-01&end=2300-01-01", 400, ""},
		{"/api/v1/rates?from=USD&to=NGN&at=2026-05-20", 200, "public, max-age=300"},
		{"/api/v1/rates?from=USD&to=NGN&at=2199-01-01", 200, "public, max-age=0, must-revalidate"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := w.get(t, tt.target)
			if r.Status != tt.status || (tt.status == 400 && !strings.Contains(string(r.Body), `"invalid_parameter"`)) {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tt.status)
			}
			if tt.cache != "" && r.Header.Get("Cache-Control") != tt.cache {
				t.Fatalf("Cache-Control = %q, want %q", r.Header.Get("Cache-Control"), tt.cache)
			}
		})
	}
}
