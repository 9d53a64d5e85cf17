package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/store"
)

// BackfillRates fetches the provider's history for the range once and
// inserts it day by day, oldest first, through the quality gate, with a
// heartbeat after each day carrying the last date stored. A retry after a
// crash resumes after that date. It does not touch the cache itself; the
// workflow runs CacheRates after it.
func (a *Activities) BackfillRates(ctx context.Context, in flow.BackfillInput) (flow.BackfillResult, error) {
	p, err := a.source(in.Provider)
	if err != nil {
		return flow.BackfillResult{}, err
	}
	from, err1 := time.Parse(time.DateOnly, in.From)
	to, err2 := time.Parse(time.DateOnly, in.To)
	if err1 != nil || err2 != nil || to.Before(from) {
		return flow.BackfillResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("backfill: want from ≤ to as YYYY-MM-DD, got %q..%q", in.From, in.To), provider.TypeRequestRejected, nil)
	}
	res := flow.BackfillResult{Provider: in.Provider}
	var done string
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &done); err != nil {
			done = ""
		}
	}
	if done != "" {
		// Resuming: ask only for what is left (Open Exchange Rates bills
		// every day it is asked for).
		if d, err := time.Parse(time.DateOnly, done); err == nil && !d.Before(from) {
			from = d.AddDate(0, 0, 1)
			res.ResumedAfter = done
		}
	}
	var sets []fx.RateSet
	if !from.After(to) {
		// A long fetch (one call per day) must not look like a dead worker.
		stop := make(chan struct{})
		go func() {
			t := time.NewTicker(20 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					activity.RecordHeartbeat(ctx, done)
				}
			}
		}()
		sets, err = p.History(ctx, from, to)
		close(stop)
		res.Downloads = 1
		if err != nil {
			return res, providerError("backfill", err)
		}
	}
	fetched := a.now().UTC()
	// Past days are final; a day asked for before its publication time
	// (today's, or one dated in the future) is not stored.
	sets, res.NotFinal = finalOnly(ctx, in.Provider, sets, fetched, fetched)
	byDay := map[string][]fx.RateSet{}
	var days []string
	for _, s := range sets { // oldest first
		d := s.AsOf.UTC().Format(time.DateOnly)
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], s)
	}
	res.Days = len(days)
	info := activity.GetInfo(ctx)
	for _, d := range days {
		if done != "" && d <= done {
			continue // stored by the attempt that heartbeated done
		}
		ins, err := a.Rates.InsertSets(ctx, byDay[d], store.Origin{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, FetchedAt: fetched, Judge: a.judge(),
		})
		if err != nil {
			return res, fmt.Errorf("backfill %s: %w", d, err)
		}
		a.report(ctx, in.Provider, ins)
		if err := a.uncacheLagging(ctx, ins.Lagging); err != nil {
			return res, fmt.Errorf("backfill %s: %w", d, err)
		}
		res.Inserted += ins.Inserted
		res.AlreadyPresent += ins.AlreadyPresent
		res.Quarantined = append(res.Quarantined, quarantined(ins.Quarantined)...)
		activity.RecordHeartbeat(ctx, d)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	activity.GetLogger(ctx).Info("backfilled rates", "provider", in.Provider, "from", in.From, "to", in.To,
		"days", res.Days, "resumed_after", res.ResumedAfter, "inserted", res.Inserted, "quarantined", len(res.Quarantined), "not_final", res.NotFinal)
	return res, nil
}
