package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
)

// failing is a provider whose every call fails as a 503 would.
type failing struct{}

func (failing) Name() string { return "down" }
func (failing) Latest(context.Context) ([]fx.RateSet, error) {
	return nil, errors.New("provider down: HTTP 503")
}
func (failing) History(context.Context, time.Time, time.Time) ([]fx.RateSet, error) {
	return nil, errors.New("provider down: HTTP 503")
}

func TestFetchRates(t *testing.T) {
	a := &activities.Activities{Providers: map[string]provider.Source{ecb.Name: recorded(t), "down": failing{}}, Now: time.Now}
	tests := []struct {
		name    string
		in      activities.FetchRatesInput
		asOf    string // the publication date fetched
		errType string // the non-retryable type, or "retryable"
	}{
		{name: "latest", in: activities.FetchRatesInput{Provider: ecb.Name}, asOf: "2017-03-03"},
		{name: "a day the ECB published", in: activities.FetchRatesInput{Provider: ecb.Name, Date: "2017-02-01"}, asOf: "2017-02-01"},
		{name: "a Saturday is not carried forward", in: activities.FetchRatesInput{Provider: ecb.Name, Date: "2017-02-04"}, errType: provider.TypeNoRatesForDate},
		{name: "a bad date", in: activities.FetchRatesInput{Provider: ecb.Name, Date: "04/02/2017"}, errType: provider.TypeRequestRejected},
		{name: "a failing provider is retried", in: activities.FetchRatesInput{Provider: "down"}, errType: "retryable"},
		{name: "a failing provider on a date is retried", in: activities.FetchRatesInput{Provider: "down", Date: "2017-02-01"}, errType: "retryable"},
		// Another worker on the queue may have it: retried, not failed.
		{name: "a provider this worker lacks", in: activities.FetchRatesInput{Provider: "cbn"}, errType: "retryable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			v, err := env.ExecuteActivity(a.FetchRates, tt.in)
			if tt.errType != "" {
				var appErr *temporal.ApplicationError
				switch {
				case err == nil:
					t.Fatal("FetchRates succeeded")
				case tt.errType == "retryable":
					if errors.As(err, &appErr) && appErr.NonRetryable() {
						t.Fatalf("error %v is not retryable", err)
					}
				case !errors.As(err, &appErr) || appErr.Type() != tt.errType || !appErr.NonRetryable():
					t.Fatalf("error = %v, want non-retryable %s", err, tt.errType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var res activities.FetchRatesResult
			if err := v.Get(&res); err != nil {
				t.Fatal(err)
			}
			if res.AsOf.Format(time.DateOnly) != tt.asOf || len(res.Rates) != 31 {
				t.Fatalf("fetched %s with %d rates, want %s with 31", res.AsOf, len(res.Rates), tt.asOf)
			}
		})
	}
}
