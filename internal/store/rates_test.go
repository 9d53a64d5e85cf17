package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/store"
	"ces/internal/testenv"
)

func sampleSet(asOf time.Time, rates map[string]string) fx.RateSet {
	set := fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: asOf, PayloadHash: strings.Repeat("a", 64)}
	for q, v := range rates {
		set.Rates = append(set.Rates, fx.QuotedRate{Quote: q, Value: decimal.RequireFromString(v)})
	}
	return set
}

func TestInsertRatesIsIdempotentAndKeepsDigits(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	asOf := time.Date(2014, 6, 10, 14, 0, 0, 0, time.UTC)
	origin := store.Origin{WorkflowID: "ingest-rates/ecb/test", RunID: "run-1", FetchedAt: asOf.Add(time.Minute)}
	set := sampleSet(asOf, map[string]string{"USD": "1.3547", "GBP": "0.80750"})

	first, err := st.Rates.InsertRates(ctx, set, origin)
	if err != nil {
		t.Fatal(err)
	}
	if first.Inserted != 2 || first.AlreadyPresent != 0 || len(first.Stored) != 2 {
		t.Fatalf("first insert = %+v", first)
	}
	second, err := st.Rates.InsertRates(ctx, set, store.Origin{WorkflowID: "w2", RunID: "run-2", FetchedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if second.Inserted != 0 || second.AlreadyPresent != 2 {
		t.Fatalf("second insert = %+v", second)
	}
	if second.Stored[0].ID != first.Stored[0].ID {
		t.Fatalf("second insert returned other rows: %d vs %d", second.Stored[0].ID, first.Stored[0].ID)
	}
	// The provider revises GBP for the same publication: history keeps the
	// first value and the revision is reported.
	revised := sampleSet(asOf, map[string]string{"USD": "1.3547", "GBP": "0.8076"})
	third, err := st.Rates.InsertRates(ctx, revised, origin)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Conflicts) != 1 || third.Conflicts[0] != "GBP" {
		t.Fatalf("conflicts = %v, want [GBP]", third.Conflicts)
	}
	var text string
	if err := st.DB().NewRaw("SELECT rate::text FROM exchange_rates WHERE quote = 'GBP'").Scan(ctx, &text); err != nil {
		t.Fatal(err)
	}
	if text != "0.80750" {
		t.Fatalf("stored GBP = %s, want the provider's exact 0.80750", text)
	}
	n, err := st.Rates.CountRates(ctx, "ecb")
	if err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
}

func TestExchangeRatesRefuseChanges(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	asOf := time.Date(2014, 6, 10, 14, 0, 0, 0, time.UTC)
	if _, err := st.Rates.InsertRates(ctx, sampleSet(asOf, map[string]string{"USD": "1.3547"}), store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: asOf}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sql  string
	}{
		{"update", "UPDATE exchange_rates SET rate = 2"},
		{"update matching nothing", "UPDATE exchange_rates SET rate = 2 WHERE false"},
		{"delete", "DELETE FROM exchange_rates"},
		{"truncate", "TRUNCATE exchange_rates CASCADE"}, // CASCADE gets past the foreign keys to the trigger
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.DB().ExecContext(ctx, tt.sql)
			if err == nil {
				t.Fatalf("%s succeeded", tt.sql)
			}
			if !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s failed for another reason: %v", tt.sql, err)
			}
		})
	}
	var rate string
	if err := st.DB().NewRaw("SELECT rate::text FROM exchange_rates").Scan(ctx, &rate); err != nil || rate != "1.3547" {
		t.Fatalf("row changed: %q, %v", rate, err)
	}
}

func TestDatabaseRefusesBadRates(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	for _, v := range []string{"0", "-1", "NaN", "Infinity"} {
		t.Run(v, func(t *testing.T) {
			_, err := db.ExecContext(ctx, `INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
				VALUES ('ecb', 'EUR', 'USD', ?::numeric, now(), now(), 'w', 'r', repeat('a', 64))`, v)
			if err == nil {
				t.Fatalf("rate %s was accepted", v)
			}
		})
	}
}

func TestLatestServableAt(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	for _, s := range []fx.RateSet{sampleSet(d1, map[string]string{"USD": "1.0540"}), sampleSet(d2, map[string]string{"USD": "1.0565"})} {
		if _, err := st.Rates.InsertRates(ctx, s, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: s.AsOf}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		at   time.Time
		want string
		err  bool
	}{
		{"latest", time.Time{}, "1.0565", false},
		{"exactly at d2", d2, "1.0565", false},
		{"just before d2", d2.Add(-time.Second), "1.054", false},
		{"before history", d1.Add(-time.Second), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := st.Rates.LatestServable(ctx, []string{"ecb"}, []string{"USD"}, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if tt.err {
				if len(rs) != 0 {
					t.Fatalf("got %v, want nothing", rs)
				}
				return
			}
			if len(rs) != 1 {
				t.Fatalf("got %d rows, want 1", len(rs))
			}
			if r := rs[0]; !r.Value.Equal(decimal.RequireFromString(tt.want)) {
				t.Fatalf("rate = %s, want %s", r.Value, tt.want)
			}
		})
	}
}

// TestLatestServableWaitsForAsOf: a row dated in the future (a CBN rate
// fetched before its day's close) is not served until its as_of.
func TestLatestServableWaitsForAsOf(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	past := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	for _, s := range []fx.RateSet{sampleSet(past, map[string]string{"USD": "1.0540"}), sampleSet(past.Add(30*time.Hour), map[string]string{"USD": "1.0600"})} {
		if _, err := st.Rates.InsertRates(ctx, s, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: past}); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := st.Rates.LatestServable(ctx, nil, nil, time.Time{})
	if err != nil || len(rs) != 1 || fx.Exact(rs[0].Value) != "1.0540" {
		t.Fatalf("latest = %v, %v; want the past row only", rs, err)
	}
}

// TestSessionLimits: a service's sessions refuse to run a statement or
// wait for a lock longer than their limits; CanWrite says when
// conversions could not be recorded.
func TestSessionLimits(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.DatabaseURL(t)
	db, err := store.OpenWithLimits(ctx, dsn, 2, store.Limits{Statement: 300 * time.Millisecond, Lock: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db)
	if _, err := db.ExecContext(ctx, "SELECT pg_sleep(1)"); err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("a 1 s statement under a 300 ms limit: %v", err)
	}
	if err := st.Conversions.CanWrite(ctx, 200*time.Millisecond); err != nil {
		t.Fatalf("CanWrite on a free table: %v", err)
	}
	owner, err := store.Open(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	lock, err := owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, "LOCK TABLE conversion_audits IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	if err := st.Conversions.CanWrite(ctx, 200*time.Millisecond); err == nil {
		t.Fatal("CanWrite succeeded while conversion_audits was locked")
	}
	if _, err := db.ExecContext(ctx, "SELECT count(*) FROM conversion_audits"); err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("a read behind the lock under a 200 ms lock limit: %v", err)
	}
}

// TestLatestServablePair reads the pair's own series only, whichever way
// it is asked, and the row in force at the instant.
func TestLatestServablePair(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	for _, s := range []fx.RateSet{
		sampleSet(d1, map[string]string{"USD": "1.0540", "GBP": "0.86"}),
		sampleSet(d2, map[string]string{"USD": "1.0565", "GBP": "0.86355"}),
	} {
		if _, err := st.Rates.InsertRates(ctx, s, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: s.AsOf}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, a, b string
		at         time.Time
		want       string // "" for no row
	}{
		{"as stored", "EUR", "USD", time.Time{}, "1.0565"},
		{"the other way round", "USD", "EUR", time.Time{}, "1.0565"},
		{"in force before d2", "EUR", "USD", d2.Add(-time.Second), "1.054"},
		{"a pair no series holds", "USD", "GBP", time.Time{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := st.Rates.LatestServablePair(ctx, []string{"ecb"}, tt.a, tt.b, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(rs) != 0 {
					t.Fatalf("got %v, want nothing", rs)
				}
				return
			}
			if len(rs) != 1 || rs[0].Quote != "USD" || !rs[0].Value.Equal(decimal.RequireFromString(tt.want)) {
				t.Fatalf("got %v, want EUR/USD %s alone", rs, tt.want)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	d2, d3 := d1.Add(24*time.Hour), d1.Add(48*time.Hour)
	cbn := fx.RateSet{Provider: "cbn", Base: "USD", AsOf: d2, PayloadHash: strings.Repeat("b", 64),
		Rates: []fx.QuotedRate{{Quote: "NGN", Value: decimal.RequireFromString("1371.8079")}}}
	for _, s := range []fx.RateSet{
		sampleSet(d1, map[string]string{"USD": "1.0540", "JPY": "120.1"}),
		sampleSet(d3, map[string]string{"USD": "1.0565"}),
		cbn,
	} {
		if _, err := st.Rates.InsertRates(ctx, s, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: s.AsOf}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		providers []string
		want      []store.Span
	}{
		{name: "every provider", want: []store.Span{
			{Provider: "cbn", Base: "USD", Quote: "NGN", First: d2, Last: d2},
			{Provider: "ecb", Base: "EUR", Quote: "JPY", First: d1, Last: d1},
			{Provider: "ecb", Base: "EUR", Quote: "USD", First: d1, Last: d3},
		}},
		{name: "one provider", providers: []string{"cbn"}, want: []store.Span{
			{Provider: "cbn", Base: "USD", Quote: "NGN", First: d2, Last: d2},
		}},
		{name: "a provider with nothing stored", providers: []string{"boc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Rates.Coverage(ctx, tt.providers)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("span %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
