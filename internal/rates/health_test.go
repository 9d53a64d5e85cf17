package rates_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/rates"
	"ces/internal/store"
)

// healthChecks stands in for publisher_health and counts its reads.
type healthChecks struct {
	checks []store.PublisherCheck
	reads  atomic.Int64
}

func (h *healthChecks) LatestChecks(context.Context) ([]store.PublisherCheck, error) {
	h.reads.Add(1)
	return h.checks, nil
}

// TestSilentPublisherIsStale: the newest health check found the ECB
// silent, so its two-hour-old rate is stale in every answer from that
// check on, a fresh source prices before it, and the checks are read once
// for any number of lookups.
func TestSilentPublisherIsStale(t *testing.T) {
	base := []fx.Rate{ecbUSD, ecbJPY, oxrNGN, oxrEUR}
	check := func(s policy.HealthStatus, at time.Time) store.PublisherCheck {
		return store.PublisherCheck{Provider: "ecb", CheckedAt: at, Status: s, Expected: 25, Missed: 5, NewestAsOf: ecbUSD.AsOf}
	}
	tests := []struct {
		name     string
		check    store.PublisherCheck
		from, to string
		only     string
		want     answer
	}{
		{name: "healthy: the ECB prices", check: check(policy.Healthy, t0.Add(-time.Minute)), from: "EUR", to: "JPY",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "162.50", legs: []int64{2}, age: 2 * time.Hour}},
		{name: "late is not stale", check: check(policy.Late, t0.Add(-time.Minute)), from: "EUR", to: "JPY",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "162.50", legs: []int64{2}, age: 2 * time.Hour}},
		{name: "silent: its young rate is stale", check: check(policy.Silent, t0.Add(-time.Minute)), from: "EUR", to: "JPY",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "162.50", legs: []int64{2}, stale: true, age: 2 * time.Hour}},
		{name: "silent: a fresh source prices first", check: check(policy.Silent, t0.Add(-time.Minute)), from: "EUR", to: "USD",
			want: answer{rule: policy.RuleInverse, provider: "oxr", value: "1.0857763300760043431", legs: []int64{4}, age: time.Hour}},
		{name: "silent, pinned: stale", check: check(policy.Silent, t0.Add(-time.Minute)), from: "EUR", to: "USD", only: "ecb",
			want: answer{rule: policy.RuleDirect, provider: "ecb", value: "1.0850", legs: []int64{1}, stale: true, age: 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &healthChecks{checks: []store.PublisherCheck{tt.check}}
			f := newFixture(world{rows: base}, func(o *rates.Options) { o.Health = h })
			for range 20 {
				got, err := f.svc.Latest(context.Background(), tt.from, tt.to, tt.only)
				if err != nil {
					t.Fatal(err)
				}
				tt.want.check(t, got)
			}
			if n := h.reads.Load(); n != 1 {
				t.Fatalf("20 lookups read the health checks %d times, want once", n)
			}
			pubs, err := f.svc.Publishers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pubs {
				if p.Key == "ecb" && (p.Health == nil || p.Health.Status != tt.check.Status || p.Stale != (tt.check.Status == policy.Silent)) {
					t.Fatalf("ecb publisher: %+v, stale %t", p.Health, p.Stale)
				}
			}
		})
	}
}
