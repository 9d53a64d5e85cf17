package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"ces/internal/fx"
	"ces/internal/policy"
)

// finalOnly keeps the sets that were final when fetched at fetchedAt
// (policy.Final) and returns, with them, how many rates it deferred: a
// publisher polled before its publication time (the CBN from 08:20 UTC,
// its day dated 16:00 UTC) may answer a provisional figure for the day,
// and the first row stored for a day is the one history keeps, so such a
// day is stored by the first poll after its publication time instead. A
// zero fetchedAt (a result that carries none) is judged at now.
func finalOnly(ctx context.Context, name string, sets []fx.RateSet, fetchedAt, now time.Time) ([]fx.RateSet, int) {
	if fetchedAt.IsZero() {
		fetchedAt = now
	}
	final, notFinal := policy.SplitFinal(sets, fetchedAt)
	n := 0
	for _, s := range notFinal {
		n += len(s.Rates)
		activity.GetLogger(ctx).Info("publication not final when fetched; not stored, the first poll after its publication time stores it",
			"provider", name, "base", s.Base, "as_of", s.AsOf, "fetched_at", fetchedAt.UTC(), "rates", len(s.Rates))
	}
	return final, n
}
