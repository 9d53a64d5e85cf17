package rates

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/provider/cbn"
	"ces/internal/provider/ecb"
	"ces/internal/provider/oxr"
	"ces/internal/store"
	"ces/internal/testenv"
)

// fixtureSets are real recorded publications: 64 ECB days
// (testdata/ecb/eurofxref-hist-90d-2017.xml), the CBN's JSON
// (testdata/cbn/GetAllExchangeRates.json) and one Open Exchange Rates set
// (testdata/oxr/latest-2022-09-01.json), re-dated onto the ECB's days so
// that every provider publishes within the same months.
func fixtureSets(t *testing.T) (ecbSets, others []fx.RateSet) {
	t.Helper()
	read := func(p string) []byte {
		b, err := os.ReadFile("../../testdata/" + p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ecbSets, err := ecb.Parse(ecb.Name, read("ecb/eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ecbSets, func(a, b fx.RateSet) int { return a.AsOf.Compare(b.AsOf) })
	one, err := oxr.Parse(oxr.Name, read("oxr/latest-2022-09-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Open Exchange Rates every fifth ECB day, an hour after it.
	for i := 0; i < len(ecbSets); i += 5 {
		set := one
		set.AsOf = ecbSets[i].AsOf.Add(time.Hour)
		set.Rates = slices.Clone(one.Rates)
		for j := range set.Rates {
			set.Rates[j].Value = set.Rates[j].Value.Mul(decimal.RequireFromString("1.0001").Pow(decimal.NewFromInt(int64(i))))
		}
		others = append(others, set)
	}
	cbnSets, err := cbn.Parse(cbn.Name, read("cbn/GetAllExchangeRates.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ecbSets, append(others, cbnSets...)
}

// question is one historical lookup.
type question struct {
	from, to, only string
	at             time.Time
}

func (q question) String() string {
	return fmt.Sprintf("%s/%s at %s only %q", q.from, q.to, q.at.Format(time.RFC3339), q.only)
}

// answer renders a result or error so that two paths can be compared
// exactly: the value's digits, the rule and the ids of the rows used.
func answer(r Result, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var ids []string
	for _, l := range r.Legs {
		ids = append(ids, fmt.Sprintf("%d@%s", l.ID, l.AsOf.Format(time.RFC3339)))
	}
	return fmt.Sprintf("%s %s via %q by %s [%s] as of %s", fx.Exact(r.Value), r.Rule, r.Via, r.Provider, strings.Join(ids, " "), r.AsOf.Format(time.RFC3339))
}

func historyAnswer(qs []fx.Quote, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "%s %s;", fx.Exact(q.Value), q.AsOf.Format(time.RFC3339))
		for _, l := range q.Legs {
			fmt.Fprintf(&b, "%d,", l.ID)
		}
	}
	return b.String()
}

// services returns a Service answering from memory (listening) and one
// answering from PostgreSQL alone, over the same store.
func services(t *testing.T, st *store.Store, maxBytes int64) (mem, db *Service) {
	t.Helper()
	provs := []string{ecb.Name, oxr.Name, cbn.Name}
	mem = New(st.Rates, st.Quality, nil, Options{Providers: provs, HistoryCacheBytes: maxBytes})
	db = New(st.Rates, st.Quality, nil, Options{Providers: provs})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go mem.past.run(ctx, func(err error) { t.Logf("listener: %v", err) })
	waitFor(t, "the history cache to listen", func() bool { return mem.past.ready.Load() })
	return mem, db
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// questions asks every pair kind at instants around each publication.
func questions(ecbSets, others []fx.RateSet) []question {
	pairs := []question{
		{from: "EUR", to: "USD"}, {from: "USD", to: "EUR"}, {from: "GBP", to: "JPY"},
		{from: "USD", to: "NGN"}, {from: "NGN", to: "GBP"}, {from: "CHF", to: "NGN"},
		{from: "EUR", to: "LTL"}, {from: "GBP", to: "JPY", only: oxr.Name}, {from: "XAU", to: "EUR"},
		{from: "EUR", to: "USD", only: cbn.Name}, {from: "BTC", to: "NGN", only: cbn.Name},
	}
	var instants []time.Time
	for _, s := range append(slices.Clone(ecbSets), others...) {
		instants = append(instants, s.AsOf.Add(-time.Second), s.AsOf, s.AsOf.Add(90*time.Minute))
	}
	instants = append(instants, ecbSets[0].AsOf.Add(-24*time.Hour), time.Now().Add(24*time.Hour))
	var out []question
	for i, at := range instants {
		p := pairs[i%len(pairs)]
		p.at = at
		out = append(out, p)
		q := pairs[(i*7+3)%len(pairs)]
		q.at = at
		out = append(out, q)
	}
	return out
}

// compareAll asks every question twice of memory (computed, then
// memoized) and once of PostgreSQL.
func compareAll(t *testing.T, mem, db *Service, qs []question) {
	t.Helper()
	ctx := context.Background()
	for pass := range 2 {
		for _, q := range qs {
			want := answer(db.At(ctx, q.from, q.to, q.at, q.only))
			got := answer(mem.At(ctx, q.from, q.to, q.at, q.only))
			if got != want {
				t.Errorf("pass %d, %s:\n memory:     %s\n PostgreSQL: %s", pass, q, got, want)
			}
		}
	}
}

var historyRanges = []struct{ from, to, only string }{{"EUR", "USD", ""}, {"GBP", "JPY", ""}, {"USD", "NGN", ""}, {"JPY", "EUR", ""}, {"EUR", "JPY", ""}}

func compareHistory(t *testing.T, mem, db *Service, start, end time.Time) {
	t.Helper()
	ctx := context.Background()
	for pass := range 2 {
		for _, r := range historyRanges {
			want := historyAnswer(db.History(ctx, r.from, r.to, start, end, r.only))
			got := historyAnswer(mem.History(ctx, r.from, r.to, start, end, r.only))
			if got != want || want == "" {
				t.Errorf("pass %d, %s/%s history:\n memory:     %s\n PostgreSQL: %s", pass, r.from, r.to, got, want)
			}
		}
	}
}

// TestHistoryFromMemoryMatchesPostgreSQL: every historical answer the
// history cache gives is the one PostgreSQL gives, digit for digit and
// row for row, through missing quotes, held and released rows, pinned
// providers, crosses across providers, a backfill into the middle of
// cached history and a bound far smaller than the data.
func TestHistoryFromMemoryMatchesPostgreSQL(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	ecbSets, others := fixtureSets(t)
	// Day 20 is held back for the backfill below; day 10 lacks USD and
	// GBP; day 30's JPY jumps and is held by the quality gate.
	var backfill fx.RateSet
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: time.Now(), Judge: gate.Judge(decimal.RequireFromString("0.2"))}
	for i, set := range ecbSets {
		switch i {
		case 20:
			backfill = set
			continue
		case 10:
			set.Rates = slices.DeleteFunc(slices.Clone(set.Rates), func(q fx.QuotedRate) bool { return q.Quote == "USD" || q.Quote == "GBP" })
		case 30:
			set.Rates = slices.Clone(set.Rates)
			for j := range set.Rates {
				if set.Rates[j].Quote == "JPY" {
					set.Rates[j].Value = set.Rates[j].Value.Mul(decimal.NewFromInt(2))
				}
			}
		}
		if _, err := st.Rates.InsertSets(ctx, []fx.RateSet{set}, gated); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Rates.InsertSets(ctx, others, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	held, err := st.Quality.Quarantines(ctx, true, 10)
	if err != nil || len(held) == 0 {
		t.Fatalf("quarantines = %v, %v; want the doubled JPY held", held, err)
	}

	mem, db := services(t, st, DefaultHistoryCacheBytes)
	qs := questions(ecbSets, others)
	t.Run("at", func(t *testing.T) {
		compareAll(t, mem, db, qs)
		if s := mem.HistoryCache(); s.Hits == 0 || s.States == 0 {
			t.Fatalf("the cache was not used: %+v", s)
		}
	})
	start, end := ecbSets[5].AsOf, ecbSets[40].AsOf
	t.Run("history", func(t *testing.T) {
		compareHistory(t, mem, db, start, end)
		// An end a nanosecond past a publication: PostgreSQL keeps
		// microseconds, and memory must cut the range where it does.
		compareHistory(t, mem, db, start, end.Add(time.Nanosecond))
		compareHistory(t, mem, db, start.Add(time.Nanosecond), end.Add(time.Microsecond))
	})
	t.Run("release", func(t *testing.T) {
		if _, err := st.Quality.DecideQuarantine(ctx, held[0].ID, true, "checked with the ECB", "test", gate.Cascade); err != nil {
			t.Fatal(err)
		}
		at := held[0].Rate.AsOf.Add(time.Minute)
		want := answer(db.At(ctx, "EUR", "JPY", at, ""))
		if !strings.Contains(want, held[0].Rate.Value.String()) {
			t.Fatalf("released rate not priced by PostgreSQL: %s", want)
		}
		waitFor(t, "the release to reach memory", func() bool { return answer(mem.At(ctx, "EUR", "JPY", at, "")) == want })
		compareAll(t, mem, db, qs)
		compareHistory(t, mem, db, start, end)
	})
	t.Run("backfill", func(t *testing.T) {
		at := backfill.AsOf.Add(time.Hour)
		before := answer(mem.At(ctx, "EUR", "USD", at, ""))
		if _, err := st.Rates.InsertSets(ctx, []fx.RateSet{backfill}, gated); err != nil {
			t.Fatal(err)
		}
		want := answer(db.At(ctx, "EUR", "USD", at, ""))
		if want == before {
			t.Fatalf("the backfill changed nothing: %s", want)
		}
		waitFor(t, "the backfill to reach memory", func() bool { return answer(mem.At(ctx, "EUR", "USD", at, "")) == want })
		compareAll(t, mem, db, qs)
		compareHistory(t, mem, db, start, end)
	})
	t.Run("bounded", func(t *testing.T) {
		// Room for a handful of states: answers stay exact, memory stays bounded.
		small, _ := services(t, st, 40_000)
		compareAll(t, small, db, qs)
		s := small.HistoryCache()
		if s.Bytes > 40_000 || s.Evictions == 0 {
			t.Fatalf("bound not kept: %+v", s)
		}
	})
	t.Run("lost listener", func(t *testing.T) {
		// Terminating the listening session: answers come from PostgreSQL
		// until it listens again, then from memory, still exact.
		if _, err := st.DB().ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the listener to notice", func() bool { return !mem.past.ready.Load() })
		compareAll(t, mem, db, qs[:20])
		waitFor(t, "the listener to return", func() bool { return mem.past.ready.Load() })
		compareAll(t, mem, db, qs)
	})
}

// TestStateSizeEstimate: rowBytes, which bounds the cache, is at least
// what a cached row really costs on the heap.
func TestStateSizeEstimate(t *testing.T) {
	one, err := oxr.Parse(oxr.Name, mustRead(t, "../../testdata/oxr/latest-2022-09-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	states := make([]*state, n)
	for i := range states {
		// Fresh rows, as scanned from PostgreSQL, kept only by the state.
		rows := make([]fx.Rate, 0, len(one.Rates))
		for j, q := range one.Rates {
			rows = append(rows, fx.Rate{ID: int64(i*1000 + j), Provider: oxr.Name, Base: "USD", Quote: q.Quote,
				Value: decimal.RequireFromString(q.Value.String() + "1"), AsOf: time.Now(), FetchedAt: time.Now()})
		}
		states[i] = newState(rows)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRow := float64(after.HeapAlloc-before.HeapAlloc) / float64(n*len(one.Rates))
	t.Logf("a cached row costs %.0f bytes on the heap; the bound assumes %d", perRow, rowBytes)
	if perRow > rowBytes {
		t.Fatalf("a cached row costs %.0f bytes, more than the %d the bound assumes", perRow, rowBytes)
	}
	runtime.KeepAlive(states)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
