package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/audit"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/ingestion"
	"ces/internal/metrics"
	"ces/internal/provider"
	"ces/internal/provider/oxr"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// fakeOXR serves the recorded Open Exchange Rates payload, or HTTP 500
// while failing is set, and counts requests.
type fakeOXR struct {
	payload []byte
	failing atomic.Bool
	hits    atomic.Int64
}

func (f *fakeOXR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	if r.URL.Query().Get("app_id") != "test-app-id" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if f.failing.Load() {
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(f.payload)
}

type stack struct {
	tc       client.Client
	metrics  *metrics.Worker
	st       *store.Store
	cache    *cache.Cache
	oxr      *fakeOXR
	queue    string
	schedule client.ScheduleHandle
	sealing  *testenv.Sealing
}

func newStack(t *testing.T) *stack {
	t.Helper()
	payload, err := os.ReadFile("../testdata/oxr/latest-2022-09-01.json")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{oxr: &fakeOXR{payload: payload}, sealing: testenv.NewSealing(t)}
	srv := httptest.NewServer(s.oxr)
	t.Cleanup(srv.Close)

	s.st = store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	s.cache = cache.New(rdb, prefix)
	s.tc = testenv.Temporal(t)
	s.queue = testenv.TaskQueue(t)
	m, err := metrics.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.metrics = m
	// The worker's client reports the SDK's metrics, as in worker/main.go.
	wc, err := client.NewClientFromExisting(s.tc, client.Options{MetricsHandler: m.Temporal()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wc.Close)

	w := worker.New(wc, s.queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{oxr.Name: oxr.NewClient(srv.URL, "test-app-id", provider.NewHTTPClient(0))},
		Rates:     s.st.Rates, Quality: s.st.Quality, Audit: s.st.Audit, Cache: s.cache, Now: time.Now, Metrics: m,
		Signer: s.sealing.Signer, Anchor: s.sealing.Anchor,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	ctx := context.Background()
	id := "ingest-rates-test-" + testenv.Suffix()
	if _, err := ingestion.EnsureSchedule(ctx, s.tc, ingestion.ScheduleOptions{
		ID: id, Provider: oxr.Name, TaskQueue: s.queue, Interval: 24 * time.Hour,
	}); err != nil {
		t.Fatal(err)
	}
	s.schedule = s.tc.ScheduleClient().GetHandle(ctx, id)
	t.Cleanup(func() { s.schedule.Delete(context.Background()) })
	return s
}

// trigger fires the schedule once and returns the run it started.
func (s *stack) trigger(t *testing.T) client.WorkflowRun {
	t.Helper()
	ctx := context.Background()
	before, err := s.schedule.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.schedule.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := s.schedule.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.Info.RecentActions); n > len(before.Info.RecentActions) {
			r := d.Info.RecentActions[n-1].StartWorkflowResult
			return s.tc.GetWorkflow(ctx, r.WorkflowID, r.FirstExecutionRunID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the schedule did not start a run after Trigger")
	return nil
}

func (s *stack) cached(t *testing.T) map[string]fx.Rate {
	t.Helper()
	all, err := s.cache.Latest(context.Background(), []string{oxr.Name})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]fx.Rate{}
	for _, r := range all[oxr.Name] {
		m[r.Quote] = r
	}
	return m
}

func TestScheduledIngestionEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)

	// First trigger: one full set in PostgreSQL, the same values in Redis.
	var first flow.IngestResult
	run := s.trigger(t)
	if err := run.Get(ctx, &first); err != nil {
		t.Fatalf("first ingestion: %v", err)
	}
	if first.Inserted != 163 || first.AlreadyPresent != 0 || first.Fetched != 163 || len(first.Skipped) != 5 {
		t.Fatalf("first ingestion = %+v", first)
	}
	if n, err := s.st.Rates.CountRates(ctx, oxr.Name); err != nil || n != 163 {
		t.Fatalf("stored rows = %d, %v; want 163", n, err)
	}
	stored, err := s.st.Rates.LatestServable(ctx, []string{oxr.Name}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	cached := s.cached(t)
	if len(cached) != len(stored) {
		t.Fatalf("cached %d rates, stored %d", len(cached), len(stored))
	}
	for _, r := range stored {
		c, ok := cached[r.Quote]
		if !ok || c.ID != r.ID || fx.Exact(c.Value) != fx.Exact(r.Value) || !c.AsOf.Equal(r.AsOf) {
			t.Fatalf("%s: cached %+v, stored %+v", r.Quote, c, r)
		}
	}
	if ngn := cached["NGN"]; fx.Exact(ngn.Value) != "418.065024" {
		t.Fatalf("NGN = %s", fx.Exact(ngn.Value))
	}
	var wfID string
	if err := s.st.DB().NewRaw("SELECT DISTINCT workflow_id FROM exchange_rates").Scan(ctx, &wfID); err != nil || wfID != run.GetID() {
		t.Fatalf("rows record workflow %q, want %q (%v)", wfID, run.GetID(), err)
	}

	// Second trigger with the same provider data: nothing new.
	var second flow.IngestResult
	if err := s.trigger(t).Get(ctx, &second); err != nil {
		t.Fatalf("second ingestion: %v", err)
	}
	if second.Inserted != 0 || second.AlreadyPresent != 163 || second.CacheUpdated != 0 {
		t.Fatalf("second ingestion = %+v", second)
	}
	if n, _ := s.st.Rates.CountRates(ctx, oxr.Name); n != 163 {
		t.Fatalf("stored rows after repeat = %d, want 163", n)
	}

	// The run is findable by its search attributes.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType='IngestRates' AND FxProvider='openexchangerates' AND RatesInserted=163 AND TaskQueue='" + s.queue + "'",
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == run.GetID() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search attribute query found %d runs, want the first one", len(resp.Executions))
		}
		time.Sleep(250 * time.Millisecond)
	}

	// The worker's metrics saw it: 163 fetched twice, inserted once, and
	// the SDK's own series are there.
	rec := httptest.NewRecorder()
	s.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	scrape := rec.Body.String()
	for _, want := range []string{
		`ces_rates_fetched_total{provider="openexchangerates"} 326`,
		`ces_rates_inserted_total{provider="openexchangerates"} 163`,
		`ces_rates_already_present_total{provider="openexchangerates"} 163`,
		`ces_rates_skipped_total{provider="openexchangerates"} 10`,
		`temporal_activity_execution_latency`,
		`temporal_workflow_completed`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("worker /metrics lacks %q", want)
		}
	}

	// Provider down: the run retries, and the cached rates stay untouched.
	s.oxr.failing.Store(true)
	hitsBefore := s.oxr.hits.Load()
	failing := s.trigger(t)
	deadline = time.Now().Add(20 * time.Second)
	for s.oxr.hits.Load()-hitsBefore < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the failing fetch was not retried")
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := s.cached(t)
	for q, c := range cached {
		if a := after[q]; a.ID != c.ID || !a.Value.Equal(c.Value) {
			t.Fatalf("%s changed in Redis while the provider failed: %+v -> %+v", q, c, a)
		}
	}
	// What the API tells a client of an empty service: the retrying error.
	if msg := ingestion.LastIngestionError(ctx, s.tc, oxr.Name); !strings.Contains(msg, "FetchRates is retrying") || !strings.Contains(msg, "HTTP 500") {
		t.Fatalf("LastIngestionError = %q", msg)
	}
	if err := s.tc.TerminateWorkflow(ctx, failing.GetID(), failing.GetRunID(), "test done"); err != nil {
		t.Fatal(err)
	}
}

func TestSealScheduleSealsTheAuditLog(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	if err := s.trigger(t).Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Two conversions to seal, recorded the way the API records them.
	rates, err := s.st.Rates.LatestServable(ctx, []string{oxr.Name}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rates[:2] {
		to, _ := fx.LookupCurrency(r.Quote)
		conv, err := fx.Convert(decimal.NewFromInt(10), r.Value, decimal.Zero, to)
		if err != nil {
			t.Fatal(err)
		}
		rc := fx.Receipt{
			ID:        fmt.Sprintf("0192f3a0-0000-7000-8000-00000000000%d", i),
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond), RequestID: "req",
			RequestSHA256: strings.Repeat("c", 64), ClientAddress: "127.0.0.1",
			Pricing: fx.Pricing{
				Amount: conv.Amount, From: "USD", To: r.Quote, MidRate: conv.MidRate, Margin: conv.Margin,
				AppliedRate: conv.AppliedRate, ConvertedAmount: conv.ConvertedAmount, Rounding: fx.Rounding,
				Provider: oxr.Name, AsOf: r.AsOf, Legs: []fx.Rate{r},
			},
		}
		rc.Hash = audit.ReceiptHash(rc)
		if _, _, err := s.st.Conversions.RecordConversion(ctx, rc); err != nil {
			t.Fatal(err)
		}
	}
	id := "seal-audit-log-test-" + testenv.Suffix()
	if _, err := ingestion.EnsureSealSchedule(ctx, s.tc, id, s.queue); err != nil {
		t.Fatal(err)
	}
	h := s.tc.ScheduleClient().GetHandle(ctx, id)
	t.Cleanup(func() { h.Delete(context.Background()) })
	// Seals cover only transactions older than any still running in the
	// cluster (other tests' included), so trigger until everything is sealed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		rep := s.sealing.Verify(t, s.st, true)
		if !rep.OK() {
			t.Fatalf("verify = %+v", rep)
		}
		if rep.Seals > 0 && rep.Unsealed == 0 && rep.Rows == 2 {
			if rep.PendingAnchor != 0 || rep.Unsigned != 0 {
				t.Fatalf("the sealer left seals unsigned or unanchored: %+v", rep)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seal schedule left the log unsealed: %+v", rep)
		}
	}
}

// TestVerifyAuditLogRunsOnTheWorker: the admin console's verification is
// a workflow; its activity checks the log against the worker's anchor,
// records the outcome, and names a tampered row.
func TestVerifyAuditLogRunsOnTheWorker(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	receipts := testenv.SeedReceipts(t, s.st, 2)
	s.sealing.SealAll(t, s.st)
	v := ingestion.NewVerifications(s.tc, s.queue)
	run := func(full bool) flow.VerifyAuditResult {
		t.Helper()
		wid, rid, err := v.Start(ctx, "test", full)
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Wait(ctx, wid, rid)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(true); res.Problem != "" || res.Rows != 2 || res.VerificationID == 0 {
		t.Fatalf("clean log: %+v", res)
	}
	if last, ok, err := s.st.Audit.LatestVerification(ctx); err != nil || !ok || last.StartedBy != "test" || last.Problem != "" {
		t.Fatalf("recorded verification = %+v %v %v", last, ok, err)
	}
	testenv.AsOwner(t, s.st.DB(), "UPDATE conversion_audits SET amount = amount * 10 WHERE id = ?", receipts[0].ID)
	// Incremental by default, yet the chain is re-derived from the anchor,
	// and the changed row sits under a seal verified before: the run
	// still names it, through the statistics of the table.
	if res := run(false); !strings.Contains(res.Problem, "audit row "+receipts[0].ID) {
		t.Fatalf("tampered log: %+v, want the changed row named", res)
	}
}
