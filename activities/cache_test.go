package activities_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestCacheRatesCountsWhatTheRunCached runs CacheRates on the ECB's
// 2017-03-03 publication, stored in PostgreSQL, against a fresh Redis key
// space per case. The activity environment gives every attempt the same
// workflow run, so running the activity twice is an attempt whose script
// Redis ran (its worker killed before it reported) followed by its retry.
func TestCacheRatesCountsWhatTheRunCached(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	h := recorded(t)
	if _, err := st.Rates.InsertRates(ctx, h.sets[0], store.Origin{WorkflowID: "ingest-rates/test", RunID: "run", FetchedAt: h.sets[0].AsOf}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Rates.LatestServable(ctx, []string{ecb.Name}, nil, time.Time{})
	if err != nil || len(rows) == 0 {
		t.Fatalf("stored rows = %d, %v", len(rows), err)
	}

	tests := []struct {
		name string
		// before is what reached Redis before the attempt under test.
		before  func(t *testing.T, a *activities.Activities, env *testsuite.TestActivityEnvironment)
		updated int
	}{
		{"a first attempt counts every series it caches", nil, len(rows)},
		{"a retry counts what its killed attempt cached",
			func(t *testing.T, a *activities.Activities, env *testsuite.TestActivityEnvironment) {
				cacheRates(t, a, env)
			}, len(rows)},
		{"a later run finding the publication cached counts nothing",
			func(t *testing.T, a *activities.Activities, _ *testsuite.TestActivityEnvironment) {
				if _, err := a.Cache.SetLatest(ctx, ecb.Name, rows, "an-earlier-run"); err != nil {
					t.Fatal(err)
				}
			}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, prefix := testenv.Redis(t)
			a := &activities.Activities{Providers: map[string]provider.Source{ecb.Name: h}, Rates: st.Rates, Quality: st.Quality, Cache: cache.New(rdb, prefix), Now: time.Now}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			if tt.before != nil {
				tt.before(t, a, env)
			}
			if got := cacheRates(t, a, env); got.Updated != tt.updated {
				t.Fatalf("updated = %d, want %d", got.Updated, tt.updated)
			}
		})
	}
}

func cacheRates(t *testing.T, a *activities.Activities, env *testsuite.TestActivityEnvironment) activities.CacheRatesResult {
	t.Helper()
	v, err := env.ExecuteActivity(a.CacheRates, activities.CacheRatesInput{Provider: ecb.Name})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.CacheRatesResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCacheRatesOnRedisTopologies runs CacheRates, and its retry after an
// attempt whose script Redis ran, against a Redis Cluster and a Sentinel
// group, under the production key prefix.
func TestCacheRatesOnRedisTopologies(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	h := recorded(t)
	if _, err := st.Rates.InsertRates(ctx, h.sets[0], store.Origin{WorkflowID: "ingest-rates/test", RunID: "run", FetchedAt: h.sets[0].AsOf}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Rates.LatestServable(ctx, []string{ecb.Name}, nil, time.Time{})
	if err != nil || len(rows) == 0 {
		t.Fatalf("stored rows = %d, %v", len(rows), err)
	}
	for _, topo := range testenv.RedisTopologies {
		t.Run(topo.Name, func(t *testing.T) {
			rdb, _ := topo.Start(t)
			c := cache.New(rdb, "ces:")
			a := &activities.Activities{Providers: map[string]provider.Source{ecb.Name: h}, Rates: st.Rates, Quality: st.Quality, Cache: c, Now: time.Now}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(a)
			for attempt := range 2 {
				if got := cacheRates(t, a, env); got.Updated != len(rows) {
					t.Fatalf("attempt %d: updated = %d, want %d", attempt+1, got.Updated, len(rows))
				}
			}
			latest, err := c.Latest(ctx, []string{ecb.Name})
			if err != nil || len(latest[ecb.Name]) != len(rows) {
				t.Fatalf("cached %d of %d series: %v", len(latest[ecb.Name]), len(rows), err)
			}
			if _, _, err := c.Held(ctx); err != nil {
				t.Fatalf("held series not cached: %v", err)
			}
		})
	}
}
