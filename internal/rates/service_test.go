package rates_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/rates"
	"ces/internal/store"
)

// These tests cover the Service's branching over small in-memory stand-ins
// for PostgreSQL and Redis (fakes_test.go); history_test.go and the API's
// tests run it against the real ones.

var t0 = time.Date(2026, 5, 21, 14, 0, 0, 0, time.UTC)

func rate(id int64, provider, base, quote, value string, asOf time.Time) fx.Rate {
	return fx.Rate{ID: id, Provider: provider, Base: base, Quote: quote, Value: decimal.RequireFromString(value),
		AsOf: asOf, FetchedAt: asOf.Add(time.Minute)}
}

// The rows most cases start from: the ECB publishes against EUR, Open
// Exchange Rates against USD; the ECB's rates are fresh for 48 hours,
// Open Exchange Rates' for 6.
var (
	ecbUSD = rate(1, "ecb", "EUR", "USD", "1.0850", t0.Add(-2*time.Hour))
	ecbJPY = rate(2, "ecb", "EUR", "JPY", "162.50", t0.Add(-2*time.Hour))
	oxrNGN = rate(3, "oxr", "USD", "NGN", "1530.25", t0.Add(-time.Hour))
	oxrEUR = rate(4, "oxr", "USD", "EUR", "0.9210", t0.Add(-time.Hour))
)

func staleAfter(provider string) time.Duration {
	if provider == "oxr" {
		return 6 * time.Hour
	}
	return 48 * time.Hour
}

// world is what PostgreSQL holds.
type world struct {
	rows      []fx.Rate
	held      map[policy.Series]time.Time
	suspended []store.Suspension
}

type fixture struct {
	store    *rateStore
	standing *standing
	cache    *memCache
	seen     *observer
	svc      *rates.Service
}

// newFixture returns a Service over w in PostgreSQL and, in Redis, the
// copy of it the ingestions and operators' actions keep there: each
// provider's newest rows, and the standing read from PostgreSQL just now.
func newFixture(w world, opts ...func(*rates.Options)) *fixture {
	f := &fixture{
		store:    &rateStore{rows: w.rows},
		standing: &standing{held: w.held, suspended: w.suspended},
		cache:    &memCache{held: w.held, heldAt: time.Now(), suspended: map[string]bool{}, suspendedAt: time.Now()},
		seen:     &observer{},
	}
	for _, p := range []string{"ecb", "oxr"} {
		if rows := f.store.newest([]string{p}, time.Time{}, func(fx.Rate) bool { return true }); len(rows) > 0 {
			f.cache.put(p, rows, false)
		}
	}
	for _, s := range w.suspended {
		f.cache.suspended[store.SuspendedKey(s.Base, s.Quote)] = true
	}
	o := rates.Options{
		Providers:  []string{"ecb", "oxr"},
		StaleAfter: staleAfter,
		Now:        func() time.Time { return t0 },
		Observer:   f.seen,
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, opt := range opts {
		opt(&o)
	}
	f.svc = rates.New(f.store, f.standing, f.cache, o)
	return f
}

func ids(legs []fx.Rate) []int64 {
	out := make([]int64, len(legs))
	for i, l := range legs {
		out[i] = l.ID
	}
	return out
}

// answer is what a test checks of a Result.
type answer struct {
	rule, provider, via string
	value               string // exact decimal text
	legs                []int64
	stale, review       bool
	age                 time.Duration
}

func (a answer) check(t *testing.T, got rates.Result) {
	t.Helper()
	if got.Rule != a.rule || got.Provider != a.provider || got.Via != a.via {
		t.Errorf("rule %s, provider %s, via %q; want %s, %s, %q", got.Rule, got.Provider, got.Via, a.rule, a.provider, a.via)
	}
	// A direct rate keeps the provider's digits; a derived one is compared
	// as a number.
	if want := decimal.RequireFromString(a.value); !got.Value.Equal(want) || a.rule == policy.RuleDirect && fx.Exact(got.Value) != a.value {
		t.Errorf("value %s, want %s", fx.Exact(got.Value), a.value)
	}
	if !slices.Equal(ids(got.Legs), a.legs) {
		t.Errorf("legs %v, want %v", ids(got.Legs), a.legs)
	}
	if got.Stale != a.stale || got.UnderReview != a.review {
		t.Errorf("stale %t, under review %t; want %t, %t", got.Stale, got.UnderReview, a.stale, a.review)
	}
	if got.Age != a.age {
		t.Errorf("age %s, want %s", got.Age, a.age)
	}
}

// TestLatest: what a latest lookup answers, served from Redis, as the
// source policy, freshness, review and suspensions decide.
func TestLatest(t *testing.T) {
	base := []fx.Rate{ecbUSD, ecbJPY, oxrNGN, oxrEUR}
	heldUSD := func(at time.Time) map[policy.Series]time.Time {
		return map[policy.Series]time.Time{{Provider: "ecb", Base: "EUR", Quote: "USD"}: at}
	}
	tests := []struct {
		name     string
		w        world
		from, to string
		only     string
		want     answer
		err      error
		// untouched: the answer needs no rate at all, so neither Redis
		// nor PostgreSQL is read.
		untouched bool
	}{
		{name: "a fresh direct rate is served as published", w: world{rows: base}, from: "EUR", to: "USD",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0850", legs: []int64{1}, age: 2 * time.Hour}},
		{name: "priority comes before direction: the ECB's inverse, not Open Exchange Rates' direct", w: world{rows: base}, from: "USD", to: "EUR",
			want: answer{rule: policy.RuleInverse, provider: "ecb", value: "0.92165898617511520737", legs: []int64{1}, age: 2 * time.Hour}},
		{name: "a cross through the provider's own base", w: world{rows: base}, from: "USD", to: "JPY",
			want: answer{rule: policy.RuleCross, provider: "ecb", via: "EUR", value: "149.76958525345622120", legs: []int64{1, 2}, age: 2 * time.Hour}},
		{name: "a cross across providers", w: world{rows: []fx.Rate{ecbUSD, ecbJPY, oxrNGN}}, from: "EUR", to: "NGN",
			want: answer{rule: policy.RuleCrossProvider, provider: "ecb+oxr", via: "USD", value: "1660.321250", legs: []int64{1, 3}, age: 2 * time.Hour}},
		{name: "a leg older than its provider's bound makes the answer stale",
			w: world{rows: []fx.Rate{ecbUSD, ecbJPY, rate(3, "oxr", "USD", "NGN", "1530.25", t0.Add(-7*time.Hour))}}, from: "EUR", to: "NGN",
			want: answer{rule: policy.RuleCrossProvider, provider: "ecb+oxr", via: "USD", value: "1660.321250", legs: []int64{1, 3}, stale: true, age: 7 * time.Hour}},
		{name: "a fresh source prices before a stale one of higher priority",
			w: world{rows: []fx.Rate{rate(1, "ecb", "EUR", "USD", "1.0850", t0.Add(-50*time.Hour)), oxrEUR, oxrNGN}}, from: "EUR", to: "USD",
			want: answer{rule: policy.RuleInverse, provider: "oxr", value: "1.0857763300760043431", legs: []int64{4}, age: time.Hour}},
		{name: "held: the released rate before the held publication is served under review",
			w: world{rows: []fx.Rate{ecbUSD, oxrNGN}, held: heldUSD(t0.Add(-time.Hour))}, from: "EUR", to: "USD",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0850", legs: []int64{1}, review: true, age: 2 * time.Hour}},
		{name: "held, but another source prices the pair: it does, not under review",
			w: world{rows: base, held: heldUSD(t0.Add(-time.Hour))}, from: "EUR", to: "USD",
			want: answer{rule: policy.RuleInverse, provider: "oxr", value: "1.0857763300760043431", legs: []int64{4}, age: time.Hour}},
		{name: "a held backfill older than the released rate reviews nothing",
			w: world{rows: []fx.Rate{ecbUSD, oxrNGN}, held: heldUSD(t0.Add(-30 * time.Hour))}, from: "EUR", to: "USD",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0850", legs: []int64{1}, age: 2 * time.Hour}},
		{name: "a suspended pair is refused", w: world{rows: base, suspended: []store.Suspension{{Base: "EUR", Quote: "USD"}}},
			from: "EUR", to: "USD", err: fx.ErrPairSuspended},
		{name: "a suspension covers both directions", w: world{rows: base, suspended: []store.Suspension{{Base: "EUR", Quote: "USD"}}},
			from: "USD", to: "EUR", err: fx.ErrPairSuspended},
		{name: "a suspended pair prices no cross either", w: world{rows: base, suspended: []store.Suspension{{Base: "EUR", Quote: "USD"}}},
			from: "USD", to: "JPY", err: fx.ErrRateNotFound},
		{name: "a withdrawn currency is refused before anything is read", w: world{rows: base}, from: "HRK", to: "EUR",
			err: fx.ErrInvalidCurrency, untouched: true},
		{name: "a withdrawn target currency too", w: world{rows: base}, from: "EUR", to: "BGN",
			err: fx.ErrInvalidCurrency, untouched: true},
		// Codes are parsed by the API (fx.ParseCurrency); here a code ISO
		// 4217 does not know is simply one no provider prices.
		{name: "an unknown code is a pair no rate prices", w: world{rows: base}, from: "ZZZ", to: "EUR", err: fx.ErrRateNotFound},
		{name: "a provider not served is refused before anything is read", w: world{rows: base}, from: "EUR", to: "USD", only: "boe",
			err: fx.ErrUnknownProvider, untouched: true},
		{name: "a pinned provider prices alone", w: world{rows: base}, from: "EUR", to: "USD", only: "oxr",
			want: answer{rule: policy.RuleInverse, provider: "oxr", value: "1.0857763300760043431", legs: []int64{4}, age: time.Hour}},
		{name: "a pinned provider that cannot price the pair", w: world{rows: base}, from: "JPY", to: "NGN", only: "ecb", err: fx.ErrRateNotFound},
		{name: "a currency into itself is 1, from no rate", w: world{rows: base}, from: "EUR", to: "EUR",
			want: answer{rule: policy.RuleIdentity, value: "1"}, untouched: true},
		{name: "nothing ingested yet", w: world{}, from: "EUR", to: "USD", err: fx.ErrNoRates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.w)
			got, err := f.svc.Latest(context.Background(), tt.from, tt.to, tt.only)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("Latest(%s, %s) = %v, %v; want %v", tt.from, tt.to, got.Quote, err, tt.err)
				}
			case err != nil:
				t.Fatalf("Latest(%s, %s): %v", tt.from, tt.to, err)
			default:
				tt.want.check(t, got)
				if got.Source != rates.FromCache {
					t.Errorf("source %s, want %s", got.Source, rates.FromCache)
				}
			}
			if tt.untouched && (len(f.cache.called()) > 0 || len(f.store.called()) > 0 || len(f.standing.called()) > 0) {
				t.Errorf("read Redis %v, PostgreSQL %v %v; want nothing read", f.cache.called(), f.store.called(), f.standing.called())
			}
			// Redis holds every provider and a fresh standing: PostgreSQL
			// is not asked (an empty Redis is, whatever the question).
			if len(tt.w.rows) > 0 && (len(f.store.called()) > 0 || len(f.standing.called()) > 0) {
				t.Errorf("read PostgreSQL %v %v with Redis answering", f.store.called(), f.standing.called())
			}
		})
	}
}

// TestLatestWhenRedisFails: a failing Redis costs an answer nothing (it
// is the same, read from PostgreSQL, and says so), and costs later
// lookups no wait on Redis for a while; only both failing fails.
func TestLatestWhenRedisFails(t *testing.T) {
	w := world{rows: []fx.Rate{ecbUSD, ecbJPY, oxrNGN, oxrEUR}}
	ctx := context.Background()
	healthy, err := newFixture(w).svc.Latest(ctx, "USD", "JPY", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		redis    error
		postgres error
		err      error
	}{
		{name: "Redis fails: PostgreSQL answers the same", redis: errors.New("dial tcp: connection refused")},
		{name: "both fail: the database is unavailable", redis: errors.New("dial tcp: connection refused"),
			postgres: errors.New("pool closed"), err: fx.ErrDatabaseUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(w)
			f.cache.err, f.store.err, f.standing.err = tt.redis, tt.postgres, tt.postgres
			got, err := f.svc.Latest(ctx, "USD", "JPY", "")
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Latest = %v, %v; want %v", got.Quote, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != rates.FromDatabase {
				t.Errorf("source %s, want %s", got.Source, rates.FromDatabase)
			}
			got.Source = healthy.Source
			if !equalResults(got, healthy) {
				t.Errorf("from PostgreSQL: %+v\nfrom Redis:      %+v", got, healthy)
			}
			if !slices.Contains(f.store.called(), "LatestServable [ecb oxr] []") {
				t.Errorf("PostgreSQL read %v, want every provider's latest rates", f.store.called())
			}
			// Within the back-off a lookup does not wait on Redis again.
			if _, err := f.svc.Latest(ctx, "EUR", "USD", ""); err != nil {
				t.Fatal(err)
			}
			if n := f.cache.count("Latest"); n != 1 {
				t.Errorf("Redis read %d times for two lookups within the back-off, want 1", n)
			}
			if want := []string{"database true", "database true"}; !slices.Equal(f.seen.sources, want) {
				t.Errorf("observed %v, want %v", f.seen.sources, want)
			}
		})
	}
}

func equalResults(a, b rates.Result) bool {
	return a.From == b.From && a.To == b.To && a.Value.Equal(b.Value) && a.Provider == b.Provider && a.Rule == b.Rule &&
		a.Via == b.Via && a.AsOf.Equal(b.AsOf) && slices.Equal(ids(a.Legs), ids(b.Legs)) &&
		a.Stale == b.Stale && a.UnderReview == b.UnderReview && a.Age == b.Age && a.Source == b.Source
}

// TestLatestWhenRedisLacksAProvider: a provider Redis holds nothing for
// (emptied, or not cached yet) is read from PostgreSQL and written back,
// after which Redis serves it.
func TestLatestWhenRedisLacksAProvider(t *testing.T) {
	ctx := context.Background()
	f := newFixture(world{rows: []fx.Rate{ecbUSD, ecbJPY, oxrNGN}})
	f.cache.mu.Lock()
	delete(f.cache.latest, "oxr")
	f.cache.mu.Unlock()
	got, err := f.svc.Latest(ctx, "EUR", "NGN", "")
	if err != nil {
		t.Fatal(err)
	}
	answer{rule: policy.RuleCrossProvider, provider: "ecb+oxr", via: "USD", value: "1660.321250", legs: []int64{1, 3}, age: 2 * time.Hour}.check(t, got)
	if got.Source != rates.FromDatabase {
		t.Errorf("source %s, want %s", got.Source, rates.FromDatabase)
	}
	if want := []string{"LatestServable [oxr] []"}; !slices.Equal(f.store.called(), want) {
		t.Errorf("PostgreSQL read %v, want %v", f.store.called(), want)
	}
	if f.cache.count("SetLatest oxr") != 1 || f.cache.count("SetLatest ecb") != 0 {
		t.Errorf("Redis calls %v, want oxr's rows written back, and only them", f.cache.called())
	}
	again, err := f.svc.Latest(ctx, "EUR", "NGN", "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Source != rates.FromCache || len(f.store.called()) != 1 {
		t.Errorf("second lookup from %s after PostgreSQL reads %v; want Redis alone", again.Source, f.store.called())
	}
}

// TestStandingFromRedis: the suspended pairs and held series come from
// Redis while its copy is younger than SuspensionsMaxAge; a missing or
// older copy is read from PostgreSQL, applied and written back.
func TestStandingFromRedis(t *testing.T) {
	tests := []struct {
		name string
		// cachedAt is when Redis's copy was read from PostgreSQL (zero: it
		// has none); Redis's copy suspends nothing and holds nothing.
		cachedAt time.Time
		err      error // the EUR/USD lookup's, under PostgreSQL's suspension
		reread   bool
	}{
		{name: "a fresh copy is trusted", cachedAt: time.Now()},
		{name: "a missing copy is read and written back", err: fx.ErrPairSuspended, reread: true},
		{name: "a copy older than SuspensionsMaxAge is read again", cachedAt: time.Now().Add(-rates.SuspensionsMaxAge - time.Second),
			err: fx.ErrPairSuspended, reread: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(world{rows: []fx.Rate{ecbUSD, ecbJPY, oxrNGN, oxrEUR}})
			f.cache.mu.Lock()
			f.cache.suspended, f.cache.suspendedAt = map[string]bool{}, tt.cachedAt
			f.cache.held, f.cache.heldAt = nil, tt.cachedAt
			f.cache.mu.Unlock()
			f.standing.suspended = []store.Suspension{{Base: "USD", Quote: "EUR"}}
			f.standing.held = map[policy.Series]time.Time{{Provider: "ecb", Base: "EUR", Quote: "JPY"}: t0}
			_, err := f.svc.Latest(context.Background(), "EUR", "USD", "")
			if !errors.Is(err, tt.err) {
				t.Fatalf("EUR/USD: %v, want %v", err, tt.err)
			}
			jpy, err := f.svc.Latest(context.Background(), "EUR", "JPY", "")
			if err != nil {
				t.Fatal(err)
			}
			if jpy.UnderReview != tt.reread {
				t.Errorf("EUR/JPY under review %t, want %t (PostgreSQL holds a newer publication)", jpy.UnderReview, tt.reread)
			}
			var wrote []string
			for _, c := range f.cache.called() {
				if c == "SetSuspensions" || c == "SetHeld" {
					wrote = append(wrote, c)
				}
			}
			want := []string(nil)
			if tt.reread {
				want = []string{"SetSuspensions", "SetHeld"}
			}
			if read := f.standing.called(); (len(read) > 0) != tt.reread || !slices.Equal(wrote, want) {
				t.Errorf("PostgreSQL read %v, Redis written %v; want read %t, written %v", read, wrote, tt.reread, want)
			}
			if tt.reread && !f.cache.suspended["EUR/USD"] {
				t.Errorf("Redis suspends %v after the re-read, want EUR/USD", f.cache.suspended)
			}
		})
	}
}

// TestRepair: when a conversion finds Redis contradicting PostgreSQL,
// Repair rewrites the provider's cached rates from PostgreSQL whatever
// Redis holds, drops the in-process copy, and does so at most once a
// second per provider.
func TestRepair(t *testing.T) {
	ctx := context.Background()
	f := newFixture(world{rows: []fx.Rate{ecbUSD, ecbJPY, oxrNGN}}, func(o *rates.Options) { o.NearCacheTTL = time.Minute })
	// Redis says something else of row 1 than PostgreSQL, and dates it
	// later, so that SetLatest would keep it.
	wrong := ecbUSD
	wrong.Value, wrong.AsOf = decimal.RequireFromString("1.2000"), ecbUSD.AsOf.Add(time.Minute)
	f.cache.put("ecb", []fx.Rate{wrong}, true)

	latest := func() rates.Result {
		t.Helper()
		r, err := f.svc.Latest(ctx, "EUR", "USD", "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The lookup trusts Redis: it is a conversion's write that checks
	// the rows (store.Conversions) and asks for the repair.
	if got := latest(); fx.Exact(got.Value) != "1.2000" {
		t.Fatalf("before the repair: %s, want Redis's 1.2000", fx.Exact(got.Value))
	}
	latest()
	if n := f.cache.count("Latest"); n != 1 {
		t.Fatalf("Redis read %d times for two lookups within the near cache's TTL, want 1", n)
	}
	if err := f.svc.Repair(ctx, "ecb"); err != nil {
		t.Fatal(err)
	}
	if n := f.cache.count("ReplaceLatest ecb"); n != 1 {
		t.Fatalf("Redis calls %v, want one ReplaceLatest of ecb", f.cache.called())
	}
	if got := latest(); fx.Exact(got.Value) != "1.0850" || f.cache.count("Latest") != 2 {
		t.Errorf("after the repair: %s after %d Redis reads, want PostgreSQL's 1.0850 read again from Redis", fx.Exact(got.Value), f.cache.count("Latest"))
	}
	if err := f.svc.Repair(ctx, "ecb"); err != nil {
		t.Fatal(err)
	}
	if n := f.cache.count("ReplaceLatest ecb"); n != 1 {
		t.Errorf("%d rewrites of ecb within a second, want 1", n)
	}
	// Another provider is not throttled by the first.
	if err := f.svc.Repair(ctx, "oxr"); err != nil || f.cache.count("ReplaceLatest oxr") != 1 {
		t.Errorf("Repair(oxr): %v after Redis calls %v, want oxr rewritten", err, f.cache.called())
	}

	// When PostgreSQL cannot say what the rows are, Redis is left alone.
	g := newFixture(world{rows: []fx.Rate{ecbUSD}})
	g.store.err = errors.New("pool closed")
	if err := g.svc.Repair(ctx, "ecb"); err == nil || g.cache.count("ReplaceLatest ecb") != 0 {
		t.Errorf("Repair with PostgreSQL down: %v after Redis calls %v; want an error and no rewrite", err, g.cache.called())
	}
}

// TestAt: a rate in force at an instant is read from PostgreSQL (the
// history cache is off here): the pair's own series first, and every
// series touching either currency only when those cannot price it fresh.
func TestAt(t *testing.T) {
	rows := []fx.Rate{
		ecbUSD, ecbJPY, oxrNGN, oxrEUR,
		rate(11, "ecb", "EUR", "USD", "1.0900", t0.Add(-26*time.Hour)),
		rate(12, "ecb", "EUR", "JPY", "163.00", t0.Add(-26*time.Hour)),
	}
	tests := []struct {
		name     string
		from, to string
		at       time.Time
		want     answer
		err      error
		reads    []string
	}{
		{name: "a fresh direct rate needs the pair's series alone", from: "EUR", to: "USD", at: t0.Add(-24 * time.Hour),
			want:  answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0900", legs: []int64{11}, age: 2 * time.Hour},
			reads: []string{"LatestServablePair [ecb oxr] EUR/USD"}},
		{name: "a cross reads every series touching either currency", from: "USD", to: "JPY", at: t0.Add(-24 * time.Hour),
			want:  answer{rule: policy.RuleCross, provider: "ecb", via: "EUR", value: "149.54128440366972477", legs: []int64{11, 12}, age: 2 * time.Hour},
			reads: []string{"LatestServablePair [ecb oxr] USD/JPY", "LatestServable [ecb oxr] [USD JPY]"}},
		{name: "an instant in the future is answered as of now", from: "EUR", to: "USD", at: t0.Add(24 * time.Hour),
			want:  answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0850", legs: []int64{1}, age: 2 * time.Hour},
			reads: []string{"LatestServablePair [ecb oxr] EUR/USD"}},
		{name: "before anything was stored", from: "EUR", to: "USD", at: t0.Add(-100 * time.Hour), err: fx.ErrRateNotFound,
			reads: []string{"LatestServablePair [ecb oxr] EUR/USD", "LatestServable [ecb oxr] [EUR USD]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(world{rows: rows})
			got, err := f.svc.At(context.Background(), tt.from, tt.to, tt.at, "")
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("At = %v, %v; want %v", got.Quote, err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tt.want.check(t, got)
				if got.Source != rates.FromDatabase {
					t.Errorf("source %s, want %s", got.Source, rates.FromDatabase)
				}
			}
			if !slices.Equal(f.store.called(), tt.reads) {
				t.Errorf("PostgreSQL read %v, want %v", f.store.called(), tt.reads)
			}
			if len(f.cache.called()) > 0 {
				t.Errorf("Redis read %v for a rate in force at an instant", f.cache.called())
			}
		})
	}

	f := newFixture(world{rows: rows})
	f.store.err = errors.New("pool closed")
	if _, err := f.svc.At(context.Background(), "EUR", "USD", t0.Add(-time.Hour), ""); !errors.Is(err, fx.ErrDatabaseUnavailable) {
		t.Errorf("At with PostgreSQL down: %v, want %v", err, fx.ErrDatabaseUnavailable)
	}
}
