package workflows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/provider"
	"ces/internal/provider/boc"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// TestAHangingPublisherDelaysNoOther runs two publishers' ingestions on
// one worker while one publisher's stand-in accepts the connection and
// never answers: the other's run completes and stores its rates while
// the hanging one is still retrying.
func TestAHangingPublisherDelaysNoOther(t *testing.T) {
	ctx := context.Background()
	hist, err := os.ReadFile("../testdata/ecb/eurofxref-hist-90d-2017.xml")
	if err != nil {
		t.Fatal(err)
	}
	_, ecbURL := newStandIn(t, map[string][]byte{"/eurofxref-daily.xml": hist})
	stop := make(chan struct{})
	hung := make(chan struct{}, 16)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) })

	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{
			ecb.Name: ecb.NewClient(ecbURL, provider.NewHTTPClient(0)),
			boc.Name: boc.NewClient(hang.URL, provider.NewHTTPClient(2*time.Second)),
		},
		Rates: st.Rates, Quality: st.Quality, Cache: cache.New(rdb, prefix), Now: time.Now,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	start := func(p string) client.WorkflowRun {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: "isolation-" + p + "-" + testenv.Suffix(), TaskQueue: queue,
		}, flow.IngestRatesName, flow.IngestInput{Provider: p})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tc.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "test over") })
		return run
	}
	hanging := start(boc.Name)
	select {
	case <-hung: // the hanging publisher's fetch is in flight
	case <-time.After(30 * time.Second):
		t.Fatal("the hanging publisher was never asked")
	}
	healthy := start(ecb.Name)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res flow.IngestResult
	if err := healthy.Get(wctx, &res); err != nil {
		t.Fatalf("the healthy publisher's run: %v", err)
	}
	if res.Inserted == 0 {
		t.Fatalf("the healthy publisher stored nothing: %+v", res)
	}
	d, err := tc.DescribeWorkflowExecution(ctx, hanging.GetID(), hanging.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if s := d.WorkflowExecutionInfo.Status; s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("the hanging publisher's run is %s, want still running (retrying)", s)
	}
	if n, err := st.Rates.CountRates(ctx, boc.Name); err != nil || n != 0 {
		t.Fatalf("the hanging publisher has %d rows (%v), want none", n, err)
	}
}
