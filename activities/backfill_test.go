package activities_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
)

// history is a provider whose History serves the ECB's recorded 90-day
// file (testdata/ecb, 2016-12-05..2017-03-03) and counts its calls.
type history struct {
	sets  []fx.RateSet
	calls int
	from  time.Time // of the last History call
}

func (h *history) Name() string { return ecb.Name }
func (h *history) Latest(context.Context) ([]fx.RateSet, error) {
	return h.sets[:1], nil // ecb.Parse lists the newest day first
}
func (h *history) History(_ context.Context, from, to time.Time) ([]fx.RateSet, error) {
	h.calls++
	h.from = from
	return provider.Between(h.sets, from, to), nil
}

func recorded(t *testing.T) *history {
	t.Helper()
	payload, err := os.ReadFile("../testdata/ecb/eurofxref-hist-90d-2017.xml")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := ecb.Parse(ecb.Name, payload)
	if err != nil {
		t.Fatal(err)
	}
	return &history{sets: sets}
}

func TestBackfillResumesAfterTheLastDayStored(t *testing.T) {
	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	h := recorded(t)
	a := &activities.Activities{Providers: map[string]provider.Source{ecb.Name: h}, Rates: st.Rates, Quality: st.Quality, Cache: c, Now: time.Now}
	in := flow.BackfillInput{Provider: ecb.Name, From: "2017-02-01", To: "2017-03-03"}

	tests := []struct {
		name      string
		heartbeat string // the last day an earlier attempt stored
		fetched   int    // publication dates fetched by this attempt
		inserted  int
		present   int
		days      int // publication dates stored afterwards
	}{
		// February 2017 has 20 TARGET days, March 1-3 three more; 31
		// currencies a day. The heartbeat says an earlier attempt stored
		// the days up to the 14th, so this one starts on the 15th.
		{"a crash after 2017-02-14 resumes on the 15th", "2017-02-14", 13, 13 * 31, 0, 13},
		{"a fresh run stores the rest and repeats nothing", "", 23, 10 * 31, 13 * 31, 23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			if tt.heartbeat != "" {
				env.SetHeartbeatDetails(tt.heartbeat)
			}
			calls := h.calls
			v, err := env.ExecuteActivity(a.BackfillRates, in)
			if err != nil {
				t.Fatal(err)
			}
			var res flow.BackfillResult
			if err := v.Get(&res); err != nil {
				t.Fatal(err)
			}
			if res.Days != tt.fetched || res.ResumedAfter != tt.heartbeat || res.Inserted != tt.inserted || res.AlreadyPresent != tt.present || h.calls != calls+1 {
				t.Fatalf("result = %+v after %d History calls; want %d days, resumed after %q, %d inserted, %d present, one call",
					res, h.calls-calls, tt.fetched, tt.heartbeat, tt.inserted, tt.present)
			}
			if tt.heartbeat != "" && h.from.Format(time.DateOnly) != "2017-02-15" {
				t.Fatalf("the resumed attempt asked the provider from %s, want 2017-02-15", h.from.Format(time.DateOnly))
			}
			// Only published dates are stored: no weekend carried forward.
			var days int
			if err := st.DB().NewRaw("SELECT count(DISTINCT as_of) FROM exchange_rates").Scan(context.Background(), &days); err != nil || days != tt.days {
				t.Fatalf("stored days = %d, %v; want %d", days, err, tt.days)
			}
		})
	}
	// A backfill never touches the cache.
	if all, err := c.Latest(context.Background(), []string{ecb.Name}); err != nil || len(all) != 0 {
		t.Fatalf("cache after backfill = %v, %v; want nothing", all, err)
	}
}
