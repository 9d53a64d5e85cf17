package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/flow"
	"ces/internal/provider"
)

var (
	asOf    = time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC)
	fetched = activities.FetchRatesResult{
		Provider: "ecb", Base: "EUR", AsOf: asOf, FetchedAt: asOf.Add(time.Hour), PayloadSHA256: "abc",
		Rates:   []activities.Quote{{Quote: "GBP", Rate: "0.86355"}, {Quote: "USD", Rate: "1.0565"}},
		Skipped: []string{"BTC"},
	}
	stored = activities.InsertRatesResult{
		Inserted: 2,
		Stored: []activities.StoredRate{
			{ID: 1, Quote: "GBP", Rate: "0.86355", AsOf: asOf, FetchedAt: asOf.Add(time.Hour)},
			{ID: 2, Quote: "USD", Rate: "1.0565", AsOf: asOf, FetchedAt: asOf.Add(time.Hour)},
		},
	}
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	env.RegisterWorkflow(IngestRates)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

func TestIngestRatesHappyPathRunsActivitiesInOrder(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	var order []string
	env.OnActivity(a.FetchRates, mock.Anything, activities.FetchRatesInput{Provider: "ecb"}).
		Run(func(mock.Arguments) { order = append(order, "FetchRates") }).Return(fetched, nil).Once()
	env.OnActivity(a.InsertRates, mock.Anything, fetched).
		Run(func(mock.Arguments) { order = append(order, "InsertRates") }).Return(stored, nil).Once()
	env.OnActivity(a.CacheRates, mock.Anything, activities.CacheRatesInput{Provider: "ecb"}).
		Run(func(mock.Arguments) { order = append(order, "CacheRates") }).Return(activities.CacheRatesResult{Updated: 2}, nil).Once()

	var upserts []temporal.SearchAttributes
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)

	env.ExecuteWorkflow(IngestRates, flow.IngestInput{Provider: "ecb"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow did not complete: %v", env.GetWorkflowError())
	}
	var res flow.IngestResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := flow.IngestResult{Provider: "ecb", Base: "EUR", AsOf: asOf, Fetched: 2, Inserted: 2, CacheUpdated: 2, Skipped: []string{"BTC"}}
	if res.Provider != want.Provider || res.Base != want.Base || !res.AsOf.Equal(want.AsOf) || res.Fetched != want.Fetched ||
		res.Inserted != want.Inserted || res.CacheUpdated != want.CacheUpdated || len(res.Skipped) != 1 {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	if got := len(order); got != 3 || order[0] != "FetchRates" || order[1] != "InsertRates" || order[2] != "CacheRates" {
		t.Fatalf("activity order = %v", order)
	}
	if len(upserts) != 2 {
		t.Fatalf("search attribute upserts = %d, want 2", len(upserts))
	}
	if p, _ := upserts[0].GetKeyword(flow.FxProviderKey); p != "ecb" {
		t.Errorf("FxProvider = %q", p)
	}
	if n, _ := upserts[1].GetInt64(flow.RatesInsertedKey); n != 2 {
		t.Errorf("RatesInserted = %d", n)
	}
	if n, ok := upserts[1].GetInt64(flow.RatesQuarantinedKey); !ok || n != 0 {
		t.Errorf("RatesQuarantined = %d, %v; want 0", n, ok)
	}
}

func TestIngestRatesReportsQuarantines(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	held := stored
	held.Quarantined = []flow.QuarantinedRate{{QuarantineID: 7, RateID: 2, Base: "EUR", Quote: "USD", Rate: "0.10565",
		Against: "previous", ReferenceProvider: "ecb", ReferenceRate: "1.0565", Change: "0.9"}}
	env.OnActivity(a.FetchRates, mock.Anything, mock.Anything).Return(fetched, nil).Once()
	env.OnActivity(a.InsertRates, mock.Anything, fetched).Return(held, nil).Once()
	// CacheRates still runs: it publishes PostgreSQL's released rates,
	// which leave the held one out.
	env.OnActivity(a.CacheRates, mock.Anything, activities.CacheRatesInput{Provider: "ecb"}).Return(activities.CacheRatesResult{Updated: 1}, nil).Once()
	var quarantined int64 = -1
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if n, ok := args.Get(0).(temporal.SearchAttributes).GetInt64(flow.RatesQuarantinedKey); ok {
			quarantined = n
		}
	}).Return(nil)
	env.ExecuteWorkflow(IngestRates, flow.IngestInput{Provider: "ecb"})
	var res flow.IngestResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Quarantined) != 1 || res.Quarantined[0].QuarantineID != 7 || quarantined != 1 {
		t.Fatalf("result quarantined = %+v, search attribute = %d; want one and 1", res.Quarantined, quarantined)
	}
}

func TestIngestRatesRetriesTransientFetchFailure(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	attempts := 0
	env.OnActivity(a.FetchRates, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { attempts++ }).Return(activities.FetchRatesResult{}, errors.New("provider ecb: HTTP 503")).Once()
	env.OnActivity(a.FetchRates, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { attempts++ }).Return(fetched, nil).Once()
	env.OnActivity(a.InsertRates, mock.Anything, mock.Anything).Return(stored, nil).Once()
	env.OnActivity(a.CacheRates, mock.Anything, mock.Anything).Return(activities.CacheRatesResult{Updated: 2}, nil).Once()

	env.ExecuteWorkflow(IngestRates, flow.IngestInput{Provider: "ecb"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if attempts != 2 {
		t.Fatalf("fetch attempts = %d, want 2", attempts)
	}
}

func TestIngestRatesStopsOnPermanentFailure(t *testing.T) {
	tests := []string{provider.TypeInvalidPayload, provider.TypeAuthFailed, provider.TypeNoRatesForDate}
	for _, typ := range tests {
		t.Run(typ, func(t *testing.T) {
			env := newEnv(t)
			var a *activities.Activities
			attempts := 0
			env.OnActivity(a.FetchRates, mock.Anything, mock.Anything).
				Run(func(mock.Arguments) { attempts++ }).
				Return(activities.FetchRatesResult{}, temporal.NewApplicationError("broken payload", typ))

			env.ExecuteWorkflow(IngestRates, flow.IngestInput{Provider: "ecb"})
			err := env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != typ {
				t.Fatalf("workflow error = %v, want application error %s", err, typ)
			}
			if attempts != 1 {
				t.Fatalf("fetch attempts = %d, want exactly 1", attempts)
			}
		})
	}
}

func TestIngestRatesBackfillFromSchedule(t *testing.T) {
	tests := []struct {
		name      string
		scheduled time.Duration // before the workflow's start
		wantDate  string
	}{
		{"on time", time.Minute, ""},
		{"backfill of an earlier day", 72 * time.Hour, "2017-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			start := time.Date(2017, 3, 4, 12, 0, 0, 0, time.UTC)
			env.SetStartTime(start)
			if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(scheduledStartKey.ValueSet(start.Add(-tt.scheduled)))); err != nil {
				t.Fatal(err)
			}
			var a *activities.Activities
			env.OnActivity(a.FetchRates, mock.Anything, activities.FetchRatesInput{Provider: "ecb", Date: tt.wantDate}).Return(fetched, nil).Once()
			env.OnActivity(a.InsertRates, mock.Anything, mock.Anything).Return(stored, nil).Once()
			env.OnActivity(a.CacheRates, mock.Anything, mock.Anything).Return(activities.CacheRatesResult{}, nil).Once()
			env.ExecuteWorkflow(IngestRates, flow.IngestInput{Provider: "ecb"})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIngestRatesRejectsBadInput(t *testing.T) {
	for _, in := range []flow.IngestInput{{}, {Provider: "ecb", Date: "03/03/2017"}} {
		env := newEnv(t)
		env.ExecuteWorkflow(IngestRates, in)
		var appErr *temporal.ApplicationError
		if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidInput" {
			t.Fatalf("input %+v: error = %v, want InvalidInput", in, err)
		}
	}
}
