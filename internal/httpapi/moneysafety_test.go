package httpapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/provider/ecb"
	"ces/internal/store"
)

// ecbDay returns the ECB's newest recorded day (2017-03-03) and the value
// of its quote.
func ecbDay(t *testing.T) (fx.RateSet, map[string]decimal.Decimal) {
	t.Helper()
	set := ecbHistory(t)[0]
	values := map[string]decimal.Decimal{}
	for _, q := range set.Rates {
		values[q.Quote] = q.Value
	}
	return set, values
}

// TestPoisonedCacheNeverPricesAReceipt: a cached rate that disagrees with
// the row it names (same id, twice the value) never reaches a receipt:
// the conversion is refused, writing nothing, the cache is rewritten from
// PostgreSQL, and the retry is priced at the row's value.
func TestPoisonedCacheNeverPricesAReceipt(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	_, values := ecbDay(t)
	ctx := context.Background()
	field := w.prefix + "latest:" + ecb.Name
	entry, err := w.rdb.HGet(ctx, field, "EUR/JPY").Result()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(entry, "|")
	parts[2] = values["JPY"].Mul(decimal.NewFromInt(2)).String()
	if err := w.rdb.HSet(ctx, field, "EUR/JPY", strings.Join(parts, "|")).Err(); err != nil {
		t.Fatal(err)
	}
	before := w.auditRows(t)
	body := `{"amount":"1000.00","from_currency":"EUR","to_currency":"JPY"}`
	r := w.post(t, "/api/v1/convert", body, "Idempotency-Key", "poisoned-1")
	if e := decodeErr(t, r); r.Status != 503 || e.Error.Code != "rate_unavailable" || r.Header.Get("Idempotency-Key") != "poisoned-1" {
		t.Fatalf("priced from a poisoned cache: %d %s", r.Status, r.Body)
	}
	if n := w.auditRows(t); n != before {
		t.Fatalf("%d audit rows, want %d", n, before)
	}
	// The repair runs in the background; the client's retry under the same
	// key is priced from the row.
	deadline := time.Now().Add(5 * time.Second)
	for r.Status != 201 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		r = w.post(t, "/api/v1/convert", body, "Idempotency-Key", "poisoned-1")
	}
	rc := decodeReceipt(t, r)
	if r.Status != 201 || rc.MidRate != fx.Exact(values["JPY"]) || rc.Legs[0].Rate != rc.MidRate {
		t.Fatalf("after the repair: %d %s, want mid_rate %s", r.Status, r.Body, values["JPY"])
	}
	stored, err := w.st.Conversions.ConversionByID(ctx, rc.ID)
	if err != nil || !stored.MidRate.Equal(stored.Legs[0].Value) {
		t.Fatalf("stored receipt %+v contradicts its leg: %v", stored, err)
	}
}

// TestFutureCacheEntryIsRefused: a cached rate dated in the future (a
// restore that left Redis ahead of PostgreSQL) is not served, and the
// rewrite from PostgreSQL replaces it.
func TestFutureCacheEntryIsRefused(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	_, values := ecbDay(t)
	ctx := context.Background()
	field := w.prefix + "latest:" + ecb.Name
	future := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := w.rdb.HSet(ctx, field, "EUR/USD", strconv.FormatInt(future.UnixMilli(), 10)+"|1|9.99|"+strconv.FormatInt(future.UnixMilli(), 10)).Err(); err != nil {
		t.Fatal(err)
	}
	r := w.get(t, "/api/v1/rates?from=EUR&to=USD")
	var b rateBody
	if err := json.Unmarshal(r.Body, &b); err != nil || r.Status != 200 || b.Rate != fx.Exact(values["USD"]) {
		t.Fatalf("a future-dated cache entry was served: %d %s", r.Status, r.Body)
	}
	entry, err := w.rdb.HGet(ctx, field, "EUR/USD").Result()
	if err != nil || strings.HasPrefix(entry, strconv.FormatInt(future.UnixMilli(), 10)) {
		t.Fatalf("the future-dated entry was kept: %q %v", entry, err)
	}
}

// TestHeldSeriesIsNotPriced: while the quality gate holds the ECB's newest
// JPY (a 90% move), nothing converts at the JPY rate before it, even
// before the API learns of the hold; a lookup of the pair shows that
// rate, saying it is under review; a release prices the new one at once.
func TestHeldSeriesIsNotPriced(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	day, values := ecbDay(t)
	ctx := context.Background()
	// The next publication, on the test's Monday, with JPY down 90%.
	next := day
	next.AsOf, next.PayloadHash = time.Date(2017, 3, 6, 11, 0, 0, 0, time.UTC), strings.Repeat("c", 64)
	next.Rates = append([]fx.QuotedRate(nil), day.Rates...)
	for i := range next.Rates {
		if next.Rates[i].Quote == "JPY" {
			next.Rates[i].Value = values["JPY"].Div(decimal.NewFromInt(10))
		}
	}
	res, err := w.st.Rates.InsertRates(ctx, next, store.Origin{WorkflowID: "ingest", RunID: "held", FetchedAt: next.AsOf, Judge: gate.Judge(decimal.RequireFromString("0.2"))})
	if err != nil || len(res.Quarantined) != 1 || res.Quarantined[0].Rate.Quote != "JPY" {
		t.Fatalf("the gate did not hold JPY alone: %+v %v", res.Quarantined, err)
	}
	held := res.Quarantined[0]
	// The new day reaches the cache, but not (yet) the held series: the
	// database's check refuses what the API's copy would price.
	rows, err := w.st.Rates.LatestServable(ctx, []string{ecb.Name}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.cache.SetLatest(ctx, ecb.Name, rows, ""); err != nil {
		t.Fatal(err)
	}
	before := w.auditRows(t)
	jpyEUR := `{"amount":"1000","from_currency":"JPY","to_currency":"EUR"}`
	refused := func(stage string) {
		t.Helper()
		r := w.post(t, "/api/v1/convert", jpyEUR)
		if e := decodeErr(t, r); r.Status != 503 || e.Error.Code != "rate_under_review" {
			t.Fatalf("%s: %d %s, want 503 rate_under_review", stage, r.Status, r.Body)
		}
		if r := w.post(t, "/api/v1/quotes", jpyEUR); r.Status != 503 || decodeErr(t, r).Error.Code != "rate_under_review" {
			t.Fatalf("%s: a quote: %d %s", stage, r.Status, r.Body)
		}
		if n := w.auditRows(t); n != before {
			t.Fatalf("%s: %d audit rows, want %d", stage, n, before)
		}
	}
	refused("before the API knows of the hold")
	if err := w.rates.SyncHeld(ctx); err != nil {
		t.Fatal(err)
	}
	refused("once the API knows")
	var b struct {
		rateBody
		UnderReview bool `json:"under_review"`
	}
	r := w.get(t, "/api/v1/rates?from=EUR&to=JPY")
	if err := json.Unmarshal(r.Body, &b); err != nil || r.Status != 200 || !b.UnderReview || b.Rate != fx.Exact(values["JPY"]) {
		t.Fatalf("the held pair's lookup: %d %s", r.Status, r.Body)
	}
	r = w.get(t, "/api/v1/rates?from=EUR&to=USD")
	if strings.Contains(string(r.Body), "under_review") || r.Status != 200 {
		t.Fatalf("a pair not held: %d %s", r.Status, r.Body)
	}
	if r := w.post(t, "/api/v1/convert", `{"amount":"1000","from_currency":"USD","to_currency":"EUR"}`); r.Status != 201 {
		t.Fatalf("a pair not held converts: %d %s", r.Status, r.Body)
	}
	before++

	if _, err := w.st.Quality.DecideQuarantine(ctx, held.ID, true, "the devaluation is real", "operator", gate.Cascade); err != nil {
		t.Fatal(err)
	}
	if err := w.rates.Resync(ctx, ecb.Name); err != nil {
		t.Fatal(err)
	}
	r = w.post(t, "/api/v1/convert", jpyEUR)
	rc := decodeReceipt(t, r)
	if r.Status != 201 || len(rc.Legs) != 1 || rc.Legs[0].ID != held.Rate.ID {
		t.Fatalf("after the release: %d %s, want priced from row %d", r.Status, r.Body, held.Rate.ID)
	}
}

// TestStaleSourceNeverOutranksAFreshOne: the offline demo's ECB rows are
// from 2017 and the CBN's from May 2026. Latest lookups and at= judge
// freshness at the instant asked, an instant in the future is answered as
// of now, and a history with no points is a 404 that says why.
func TestStaleSourceNeverOutranksAFreshOne(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	w := twoSourceWorld(t, options{now: now})
	type answer struct {
		rateBody
		AsOf       string `json:"as_of"`
		AgeSeconds int64  `json:"age_seconds"`
	}
	tests := []struct {
		name, query string
		provider    string
		stale       bool
		// ageFromNow: the age is measured from the test's now, not from
		// the instant asked.
		ageFromNow bool
	}{
		{name: "every source stale: the newest prices", query: "from=USD&to=EUR", provider: "cbn", stale: true},
		{name: "at= in May 2026: the CBN is fresh then", query: "from=USD&to=EUR&at=2026-05-21", provider: "cbn"},
		{name: "at= in March 2017: the ECB is fresh then", query: "from=USD&to=EUR&at=2017-03-03", provider: "ecb"},
		{name: "at= in the future answers as of now", query: "from=USD&to=EUR&at=2030-01-01", provider: "cbn", stale: true, ageFromNow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.get(t, "/api/v1/rates?"+tt.query)
			var a answer
			if err := json.Unmarshal(r.Body, &a); err != nil || r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if a.Provider != tt.provider || a.Stale != tt.stale {
				t.Fatalf("provider %s stale %v, want %s %v: %s", a.Provider, a.Stale, tt.provider, tt.stale, r.Body)
			}
			if tt.ageFromNow {
				asOf, _ := time.Parse(time.RFC3339, a.AsOf)
				if want := int64(now.Sub(asOf) / time.Second); a.AgeSeconds != want {
					t.Fatalf("age %d s, want %d (from now): %s", a.AgeSeconds, want, r.Body)
				}
			}
		})
	}
	r := w.get(t, "/api/v1/rates/history?from=EUR&to=SEK&start=2025-01-01&end=2025-01-31")
	if e := decodeErr(t, r); r.Status != 404 || e.Error.Code != "rate_not_found" || !strings.Contains(e.Error.Message, "between") {
		t.Fatalf("a history with no points: %d %s", r.Status, r.Body)
	}
}
