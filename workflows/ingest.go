// Package workflows orchestrates CES's durable processes. Workflows only
// decide what happens next; every read and write is an activity.
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

// scheduledStartKey is set by Temporal on runs started by a schedule.
var scheduledStartKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// Activity options of IngestRates, declared here so a reader sees every
// timeout and retry at once.
var (
	// A provider call is one HTTP request (30 s client timeout) plus
	// parsing. Outages are retried with backoff for up to 30 minutes, half
	// of the default hourly interval; permanent failures never retried.
	fetchOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    45 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: provider.PermanentTypes,
		},
	}
	// One transaction of at most a few hundred rows.
	insertOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 20 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{provider.TypeInvalidPayload},
		},
	}
	// One Lua script and one PUBLISH. Readers fall back to PostgreSQL while
	// Redis is down, so retrying for a while costs freshness, not answers.
	cacheOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 20 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        500 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{provider.TypeInvalidPayload},
		},
	}
)

// backfillAfter separates a late regular run from a backfill: a scheduled
// time further in the past than this (well beyond the schedule's catch-up
// window) asks for the rates of that day rather than the latest.
const backfillAfter = 2 * time.Hour

// qualityGateVersion marks runs that report quarantines in the
// RatesQuarantined search attribute; older histories replay without it.
const qualityGateVersion = "quality-gate"

// IngestRates fetches one publication from a provider, inserts it into
// PostgreSQL through the quality gate, and makes PostgreSQL's newest
// released rates the cached latest where they are newer.
func IngestRates(ctx workflow.Context, in flow.IngestInput) (flow.IngestResult, error) {
	if in.Provider == "" {
		return flow.IngestResult{}, temporal.NewNonRetryableApplicationError("ingest: no provider named", "InvalidInput", nil)
	}
	if in.Date != "" {
		if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
			return flow.IngestResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("ingest: date %q is not YYYY-MM-DD", in.Date), "InvalidInput", nil)
		}
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, flow.FxProviderKey.ValueSet(in.Provider)); err != nil {
		return flow.IngestResult{}, err
	}
	date := in.Date
	if date == "" {
		if at, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartKey); ok &&
			workflow.Now(ctx).Sub(at) > backfillAfter {
			date = at.UTC().Format(time.DateOnly)
		}
	}
	logger := workflow.GetLogger(ctx)
	var a *activities.Activities

	var fetched activities.FetchRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, fetchOptions),
		a.FetchRates, activities.FetchRatesInput{Provider: in.Provider, Date: date}).Get(ctx, &fetched); err != nil {
		return flow.IngestResult{}, err
	}
	var inserted activities.InsertRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, insertOptions),
		a.InsertRates, fetched).Get(ctx, &inserted); err != nil {
		return flow.IngestResult{}, err
	}
	gate := workflow.GetVersion(ctx, qualityGateVersion, workflow.DefaultVersion, 1)
	var cached activities.CacheRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cacheOptions),
		a.CacheRates, activities.CacheRatesInput{Provider: in.Provider}).Get(ctx, &cached); err != nil {
		return flow.IngestResult{}, err
	}
	attrs := []temporal.SearchAttributeUpdate{flow.RatesInsertedKey.ValueSet(int64(inserted.Inserted))}
	if gate >= 1 {
		attrs = append(attrs, flow.RatesQuarantinedKey.ValueSet(int64(len(inserted.Quarantined))))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		return flow.IngestResult{}, err
	}
	res := flow.IngestResult{
		Provider: in.Provider, Base: fetched.Base, AsOf: fetched.AsOf, Date: date,
		Fetched: len(fetched.Rates), Inserted: inserted.Inserted, AlreadyPresent: inserted.AlreadyPresent,
		CacheUpdated: cached.Updated, Skipped: fetched.Skipped, Conflicts: inserted.Conflicts, Quarantined: inserted.Quarantined,
		NotFinal: inserted.NotFinal,
	}
	logger.Info("ingested rates", "provider", res.Provider, "as_of", res.AsOf, "fetched", res.Fetched,
		"inserted", res.Inserted, "already_present", res.AlreadyPresent, "quarantined", len(res.Quarantined),
		"not_final", res.NotFinal, "cache_updated", res.CacheUpdated)
	return res, nil
}
