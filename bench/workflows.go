package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/provider/ecb"
	"ces/internal/provider/oxr"
)

// ngnAsOf is the as_of of the cached USD→NGN rate (zero when absent).
func ngnAsOf(ctx context.Context, c *cache.Cache) time.Time {
	all, err := c.Latest(ctx, []string{oxr.Name})
	if err != nil {
		return time.Time{}
	}
	for _, r := range all[oxr.Name] {
		if r.Base == "USD" && r.Quote == "NGN" {
			return r.AsOf
		}
	}
	return time.Time{}
}

// ingest starts IngestRates and returns how long until Redis holds the new
// NGN rate, the moment readers can see it.
func ingest(ctx context.Context, tc client.Client, c *cache.Cache, queue string) (time.Duration, error) {
	before := ngnAsOf(ctx, c)
	start := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: fmt.Sprintf("ingest-rates/bench-%d", start.UnixNano())},
		flow.IngestRatesName, flow.IngestInput{Provider: oxr.Name})
	if err != nil {
		return 0, err
	}
	for {
		if now := ngnAsOf(ctx, c); now.After(before) {
			d := time.Since(start)
			return d, run.Get(ctx, nil)
		}
		if time.Since(start) > 30*time.Second {
			return 0, fmt.Errorf("ingestion did not reach Redis within 30s: %v", run.Get(ctx, nil))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// backfillRun is a finished backfill with its duration and the history
// downloads the stand-in counted.
type backfillRun struct {
	flow.BackfillResult
	took      time.Duration
	downloads int
}

// backfill runs BackfillRates for the ECB over [from, to] and waits for it.
func backfill(ctx context.Context, tc client.Client, queue string, downloads *atomic.Int64, from, to string) (backfillRun, error) {
	in := flow.BackfillInput{Provider: ecb.Name, From: from, To: to}
	before := downloads.Load()
	start := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: flow.BackfillID(in)}, flow.BackfillRatesName, in)
	if err != nil {
		return backfillRun{}, err
	}
	var res flow.BackfillResult
	if err := run.Get(ctx, &res); err != nil {
		return backfillRun{}, err
	}
	return backfillRun{BackfillResult: res, took: time.Since(start), downloads: int(downloads.Load() - before)}, nil
}

// ingestOnce runs one IngestRates of provider and waits for it.
func ingestOnce(ctx context.Context, tc client.Client, queue, provider string) error {
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: fmt.Sprintf("ingest-rates/bench-%s-%d", provider, time.Now().UnixNano())},
		flow.IngestRatesName, flow.IngestInput{Provider: provider})
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}
