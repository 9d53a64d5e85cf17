package activities_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/metrics"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestBackfillStoresOnlyPublishedDays backfills the ECB's 1-3 March 2017
// on the 3rd, before and after that day's publication time (16:00 in
// Frankfurt, 15:00 UTC): the past days are stored at once, the 3rd only
// once it is published.
func TestBackfillStoresOnlyPublishedDays(t *testing.T) {
	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	var now time.Time
	a := &activities.Activities{Providers: map[string]provider.Source{ecb.Name: recorded(t)}, Rates: st.Rates, Quality: st.Quality,
		Cache: cache.New(rdb, prefix), Now: func() time.Time { return now }}
	in := flow.BackfillInput{Provider: ecb.Name, From: "2017-03-01", To: "2017-03-03"}
	published := ecb.PublicationTime(time.Date(2017, 3, 3, 0, 0, 0, 0, time.UTC))

	tests := []struct {
		name                              string
		at                                time.Time
		days, inserted, present, notFinal int
	}{
		{"on the 3rd at 14:00 UTC the 3rd is not final", time.Date(2017, 3, 3, 14, 0, 0, 0, time.UTC), 2, 2 * 31, 0, 31},
		{"at its publication time it is stored", published, 3, 31, 2 * 31, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.at
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			v, err := env.ExecuteActivity(a.BackfillRates, in)
			if err != nil {
				t.Fatal(err)
			}
			var res flow.BackfillResult
			if err := v.Get(&res); err != nil {
				t.Fatal(err)
			}
			if res.Days != tt.days || res.Inserted != tt.inserted || res.AlreadyPresent != tt.present || res.NotFinal != tt.notFinal {
				t.Fatalf("result = %+v; want %d days, %d inserted, %d present, %d not final", res, tt.days, tt.inserted, tt.present, tt.notFinal)
			}
		})
	}
}

// TestInsertRatesDefersWhatWasNotFinal inserts one fetch holding a
// published day, a day fetched before its publication time and a row
// dated in the future: only the published day is stored.
func TestInsertRatesDefersWhatWasNotFinal(t *testing.T) {
	st := store.New(testenv.DB(t))
	m, err := metrics.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Rates: st.Rates, Quality: st.Quality, Now: time.Now, Metrics: m}
	day := time.Date(2026, 5, 21, 16, 0, 0, 0, time.UTC)
	in := activities.FetchRatesResult{
		Provider: "cbn", Base: "USD", AsOf: day, FetchedAt: day.Add(-7 * time.Hour), PayloadSHA256: "abc",
		Rates: []activities.Quote{
			{Quote: "NGN", Rate: "1365.5"},
			{Quote: "NGN", Rate: "1590.1997", Base: "EUR"},
			{Quote: "NGN", Rate: "1368.1", AsOf: day.AddDate(0, 0, -1)},
			{Quote: "NGN", Rate: "1370", Base: "GBP", AsOf: day.AddDate(0, 0, 1)},
		},
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	v, err := env.ExecuteActivity(a.InsertRates, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.InsertRatesResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 1 || res.NotFinal != 3 || len(res.Stored) != 1 || !res.Stored[0].AsOf.Equal(day.AddDate(0, 0, -1)) {
		t.Fatalf("result = %+v; want the previous day's USD stored and 3 rates not final", res)
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM exchange_rates").Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("stored rows = %d, %v; want 1", n, err)
	}
	// The deferred rates are counted where operators look.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `ces_rates_not_final_total{provider="cbn"} 3`; !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("metrics lack %q", want)
	}
}
