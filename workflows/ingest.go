// Package workflows orchestrates CES's durable processes. Workflows only
// decide what happens next; every read and write is an activity.
package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/provider"
)

// IngestRatesName is the workflow type name operators query by.
const IngestRatesName = "IngestRates"

// Search attributes set by IngestRates, registered on the Temporal server
// (make up, make test and docker-compose do it) so operators can filter
// ingestion history: temporal workflow list --query "FxProvider='ecb'".
var (
	FxProviderKey    = temporal.NewSearchAttributeKeyKeyword("FxProvider")
	RatesInsertedKey = temporal.NewSearchAttributeKeyInt64("RatesInserted")
	// RatesQuarantinedKey counts the rates the quality gate held back:
	// temporal workflow list --query "RatesQuarantined > 0".
	RatesQuarantinedKey = temporal.NewSearchAttributeKeyInt64("RatesQuarantined")
	// scheduledStartKey is set by Temporal on runs started by a schedule.
	scheduledStartKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
)

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

// IngestInput names the provider and, optionally, the day to ingest.
type IngestInput struct {
	Provider string `json:"provider"`
	// Date is YYYY-MM-DD to ingest a past day's rates; empty means the
	// latest, unless the run is a schedule backfill (see backfillAfter).
	Date string `json:"date,omitempty"`
}

// IngestResult summarises one ingestion.
type IngestResult struct {
	Provider       string    `json:"provider"`
	Base           string    `json:"base"`
	AsOf           time.Time `json:"as_of"`
	Date           string    `json:"date,omitempty"`
	Fetched        int       `json:"fetched"`
	Inserted       int       `json:"inserted"`
	AlreadyPresent int       `json:"already_present"`
	CacheUpdated   int       `json:"cache_updated"`
	Skipped        []string  `json:"skipped,omitempty"`
	Conflicts      []string  `json:"conflicts,omitempty"`
	// Quarantined lists the rates the quality gate held back: stored, but
	// neither cached nor priced until an operator releases them.
	Quarantined []activities.QuarantinedRate `json:"quarantined,omitempty"`
}

// qualityGateVersion marks runs that report quarantines in the
// RatesQuarantined search attribute; older histories replay without it.
const qualityGateVersion = "quality-gate"

// IngestRates fetches one publication from a provider, inserts it into
// PostgreSQL through the quality gate, and makes PostgreSQL's newest
// released rates the cached latest where they are newer.
func IngestRates(ctx workflow.Context, in IngestInput) (IngestResult, error) {
	if in.Provider == "" {
		return IngestResult{}, temporal.NewNonRetryableApplicationError("ingest: no provider named", "InvalidInput", nil)
	}
	if in.Date != "" {
		if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
			return IngestResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("ingest: date %q is not YYYY-MM-DD", in.Date), "InvalidInput", nil)
		}
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, FxProviderKey.ValueSet(in.Provider)); err != nil {
		return IngestResult{}, err
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
		return IngestResult{}, err
	}
	var inserted activities.InsertRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, insertOptions),
		a.InsertRates, fetched).Get(ctx, &inserted); err != nil {
		return IngestResult{}, err
	}
	gate := workflow.GetVersion(ctx, qualityGateVersion, workflow.DefaultVersion, 1)
	var cached activities.CacheRatesResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cacheOptions),
		a.CacheRates, activities.CacheRatesInput{Provider: in.Provider}).Get(ctx, &cached); err != nil {
		return IngestResult{}, err
	}
	attrs := []temporal.SearchAttributeUpdate{RatesInsertedKey.ValueSet(int64(inserted.Inserted))}
	if gate >= 1 {
		attrs = append(attrs, RatesQuarantinedKey.ValueSet(int64(len(inserted.Quarantined))))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{
		Provider: in.Provider, Base: fetched.Base, AsOf: fetched.AsOf, Date: date,
		Fetched: len(fetched.Rates), Inserted: inserted.Inserted, AlreadyPresent: inserted.AlreadyPresent,
		CacheUpdated: cached.Updated, Skipped: fetched.Skipped, Conflicts: inserted.Conflicts, Quarantined: inserted.Quarantined,
	}
	logger.Info("ingested rates", "provider", res.Provider, "as_of", res.AsOf, "fetched", res.Fetched,
		"inserted", res.Inserted, "already_present", res.AlreadyPresent, "quarantined", len(res.Quarantined), "cache_updated", res.CacheUpdated)
	return res, nil
}
