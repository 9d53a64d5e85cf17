package workflows_test

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cbn"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// clock is a settable Activities.Now.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// TestNoProvisionalFigureFrozenIn polls a CBN stand-in through Temporal
// at 09:00 UTC, when its answer for 2026-05-21 is a provisional morning
// figure, and at 16:20, after the day's publication time (17:00 in Lagos,
// 16:00 UTC), when it answers the final one: the morning poll stores
// nothing for the day and the afternoon figure is the one priced.
func TestNoProvisionalFigureFrozenIn(t *testing.T) {
	ctx := context.Background()
	afternoon, err := os.ReadFile("../testdata/cbn/GetAllExchangeRates.json")
	if err != nil {
		t.Fatal(err)
	}
	// The recording's newest day, 2026-05-21, prices USD at 1371.8079;
	// in the morning the CBN still showed 1365.5000 for it.
	final := []byte(`"ratedate":"2026-05-21","buyingrate":"1371.3079","centralrate":"1371.8079"`)
	if bytes.Count(afternoon, final) != 1 {
		t.Fatal("the recording has no single 2026-05-21 US dollar row to change")
	}
	morning := bytes.Replace(afternoon, final,
		[]byte(`"ratedate":"2026-05-21","buyingrate":"1365.0000","centralrate":"1365.5000"`), 1)
	day := time.Date(2026, 5, 21, 0, 0, 0, 0, time.UTC)
	published := cbn.PublicationTime(day)

	srv, url := newStandIn(t, map[string][]byte{"/GetAllExchangeRates": morning})
	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	now := &clock{}
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{cbn.Name: cbn.NewClient(url, provider.NewHTTPClient(0))},
		Rates:     st.Rates, Quality: st.Quality, Cache: c, Now: now.Now,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	svc := rates.New(st.Rates, st.Quality, c, rates.Options{Providers: []string{cbn.Name}})

	poll := func(t *testing.T, at time.Time) flow.IngestResult {
		t.Helper()
		now.set(at)
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: "ingest-provisional-" + testenv.Suffix()},
			flow.IngestRatesName, flow.IngestInput{Provider: cbn.Name})
		if err != nil {
			t.Fatal(err)
		}
		var res flow.IngestResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	stored := func(t *testing.T) []fx.Rate {
		t.Helper()
		rows, err := st.Rates.LatestServable(ctx, []string{cbn.Name}, nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}

	t.Run("09:00 UTC: the morning figure is not stored", func(t *testing.T) {
		res := poll(t, time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC))
		// 12 ISO currencies on the day, WAUA skipped.
		if res.Fetched != 12 || res.Inserted != 0 || res.NotFinal != 12 || !res.AsOf.Equal(published) {
			t.Fatalf("morning poll = %+v, want 12 fetched, none stored, 12 not final", res)
		}
		if rows := stored(t); len(rows) != 0 {
			t.Fatalf("stored after the morning poll: %v", rows)
		}
		if r, err := svc.Latest(ctx, "USD", "NGN", ""); err == nil {
			t.Fatalf("USD/NGN priced %s from a provisional figure", fx.Exact(r.Value))
		}
	})

	t.Run("16:20 UTC: the afternoon figure is stored and priced", func(t *testing.T) {
		srv.set("/GetAllExchangeRates", afternoon)
		res := poll(t, time.Date(2026, 5, 21, 16, 20, 0, 0, time.UTC))
		if res.Inserted != 12 || res.NotFinal != 0 || len(res.Conflicts) != 0 {
			t.Fatalf("afternoon poll = %+v, want 12 stored", res)
		}
		r, err := svc.Latest(ctx, "USD", "NGN", "")
		if err != nil {
			t.Fatal(err)
		}
		if fx.Exact(r.Value) != "1371.8079" || !r.AsOf.Equal(published) || r.Provider != cbn.Name {
			t.Fatalf("USD/NGN = %s from %s as of %s, want the afternoon 1371.8079 as of %s", fx.Exact(r.Value), r.Provider, r.AsOf, published)
		}
	})
}
