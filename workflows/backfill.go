package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/flow"
	"ces/internal/provider"
)

// backfillOptions: one activity downloads the history once and inserts
// it day by day, heartbeating the last day stored. A worker that dies is
// noticed within HeartbeatTimeout and the retry resumes after that day.
var backfillOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    2 * time.Hour,
	HeartbeatTimeout:       2 * time.Minute,
	ScheduleToCloseTimeout: 12 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        5 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Minute,
		NonRetryableErrorTypes: provider.PermanentTypes,
	},
}

// BackfillRates stores a provider's published rates for a range of dates
// from one download of its history, then publishes PostgreSQL's newest
// released rates to the cache as an ingestion does: an older range
// changes nothing there, a range that reaches today is served at once.
func BackfillRates(ctx workflow.Context, in flow.BackfillInput) (flow.BackfillResult, error) {
	if in.Provider == "" {
		return flow.BackfillResult{}, temporal.NewNonRetryableApplicationError("backfill: no provider named", "InvalidInput", nil)
	}
	from, err1 := time.Parse(time.DateOnly, in.From)
	to, err2 := time.Parse(time.DateOnly, in.To)
	switch {
	case err1 != nil || err2 != nil:
		return flow.BackfillResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("backfill: dates %q..%q are not YYYY-MM-DD", in.From, in.To), "InvalidInput", nil)
	case to.Before(from):
		return flow.BackfillResult{}, temporal.NewNonRetryableApplicationError("backfill: from is after to", "InvalidInput", nil)
	case to.Sub(from) > flow.MaxBackfillDays*24*time.Hour:
		return flow.BackfillResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("backfill: more than %d days; split the range", flow.MaxBackfillDays), "InvalidInput", nil)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, flow.FxProviderKey.ValueSet(in.Provider)); err != nil {
		return flow.BackfillResult{}, err
	}
	var a *activities.Activities
	var res flow.BackfillResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, backfillOptions), a.BackfillRates, in).Get(ctx, &res); err != nil {
		return flow.BackfillResult{}, err
	}
	// A range that reaches the newest publication must not leave Redis
	// behind PostgreSQL; CacheRates only ever moves the cache forward.
	var cached activities.CacheRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cacheOptions),
		a.CacheRates, activities.CacheRatesInput{Provider: in.Provider}).Get(ctx, &cached); err != nil {
		return flow.BackfillResult{}, err
	}
	res.CacheUpdated = cached.Updated
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		flow.RatesInsertedKey.ValueSet(int64(res.Inserted)), flow.RatesQuarantinedKey.ValueSet(int64(len(res.Quarantined)))); err != nil {
		return flow.BackfillResult{}, err
	}
	workflow.GetLogger(ctx).Info("backfill done", "provider", in.Provider, "from", in.From, "to", in.To,
		"days", res.Days, "inserted", res.Inserted, "quarantined", len(res.Quarantined))
	return res, nil
}
