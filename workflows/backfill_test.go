package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"ces/activities"
	"ces/internal/flow"
	"ces/internal/provider"
)

func TestBackfillRatesRunsOneActivity(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(BackfillRates)
	var a *activities.Activities
	in := flow.BackfillInput{Provider: "ecb", From: "2017-01-02", To: "2017-03-03"}
	calls := 0
	env.OnActivity(a.BackfillRates, mock.Anything, in).Run(func(mock.Arguments) { calls++ }).
		Return(flow.BackfillResult{Provider: "ecb", Days: 45, Inserted: 1395, Downloads: 1}, nil)
	env.OnActivity(a.CacheRates, mock.Anything, activities.CacheRatesInput{Provider: "ecb"}).Return(activities.CacheRatesResult{Updated: 0}, nil).Once()
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
	env.ExecuteWorkflow(BackfillRates, in)
	var res flow.BackfillResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || res.Days != 45 || res.Inserted != 1395 {
		t.Fatalf("calls = %d, result = %+v", calls, res)
	}
}

func TestBackfillRatesRetriesThenStopsOnPermanentFailure(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflow(BackfillRates)
	var a *activities.Activities
	calls := 0
	env.OnActivity(a.BackfillRates, mock.Anything, mock.Anything).Run(func(mock.Arguments) { calls++ }).
		Return(flow.BackfillResult{}, errors.New("provider ecb: HTTP 503")).Once()
	env.OnActivity(a.BackfillRates, mock.Anything, mock.Anything).Run(func(mock.Arguments) { calls++ }).
		Return(flow.BackfillResult{}, temporal.NewNonRetryableApplicationError("refused", provider.TypeRequestRejected, nil)).Once()
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil)
	env.ExecuteWorkflow(BackfillRates, flow.BackfillInput{Provider: "ecb", From: "2017-01-02", To: "2017-01-03"})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != provider.TypeRequestRejected || calls != 2 {
		t.Fatalf("error = %v after %d calls; want %s after 2", err, calls, provider.TypeRequestRejected)
	}
}

func TestBackfillRatesRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   flow.BackfillInput
	}{
		{"no provider", flow.BackfillInput{From: "2017-01-02", To: "2017-01-03"}},
		{"bad date", flow.BackfillInput{Provider: "ecb", From: "02/01/2017", To: "2017-01-03"}},
		{"reversed", flow.BackfillInput{Provider: "ecb", From: "2017-01-03", To: "2017-01-02"}},
		{"too long", flow.BackfillInput{Provider: "ecb", From: "1990-01-01", To: "2017-01-02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			env.RegisterWorkflow(BackfillRates)
			env.ExecuteWorkflow(BackfillRates, tt.in)
			var appErr *temporal.ApplicationError
			if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidInput" {
				t.Fatalf("error = %v, want InvalidInput", err)
			}
		})
	}
}
