package workflows_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/config"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/ingestion"
	"ces/internal/policy"
	"ces/internal/provider"
	"ces/internal/provider/cbn"
	"ces/internal/provider/ecb"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// standIn serves recorded provider payloads by path and counts requests.
type standIn struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]*atomic.Int64
}

func newStandIn(t *testing.T, files map[string][]byte) (*standIn, string) {
	s := &standIn{files: files, hits: map[string]*atomic.Int64{}}
	for p := range files {
		s.hits[p] = new(atomic.Int64)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.hits[r.URL.Path].Add(1)
	w.Write(body)
}

func (s *standIn) set(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
}

// jumped derives a later ECB publication from the recorded 90-day file:
// its newest day (2017-03-03) re-dated 2017-03-06 with JPY moved 90%
// (120.83 → 12.083), the kind of slip a feed makes with a decimal point.
func jumped(t *testing.T, hist []byte) []byte {
	t.Helper()
	day := regexp.MustCompile(`(?s)<Cube time="2017-03-03">.*?</Cube>`).Find(hist)
	if day == nil {
		t.Fatal("no 2017-03-03 in the recording")
	}
	day = bytes.Replace(day, []byte(`time="2017-03-03"`), []byte(`time="2017-03-06"`), 1)
	day = bytes.Replace(day, []byte(`currency="JPY" rate="120.83"`), []byte(`currency="JPY" rate="12.083"`), 1)
	head := hist[:bytes.Index(hist, []byte(`<Cube><Cube time=`))]
	return append(append(append([]byte{}, head...), []byte("<Cube>")...), append(day, []byte("</Cube></gesmes:Envelope>")...)...)
}

// TestSeveralSourcesEndToEnd runs ingestion through Temporal with the
// ECB and the CBN served by stand-ins with their recorded payloads, and
// checks the source policy, the quality gate, the backfill and the
// schedules' reconciliation.
func TestSeveralSourcesEndToEnd(t *testing.T) {
	ctx := context.Background()
	hist, err := os.ReadFile("../testdata/ecb/eurofxref-hist-90d-2017.xml")
	if err != nil {
		t.Fatal(err)
	}
	cbnPayload, err := os.ReadFile("../testdata/cbn/GetAllExchangeRates.json")
	if err != nil {
		t.Fatal(err)
	}
	// The 90-day file serves as the daily one too: its newest day is the latest.
	ecbSrv, ecbURL := newStandIn(t, map[string][]byte{
		"/eurofxref-daily.xml": hist, "/eurofxref-hist-90d.xml": hist, "/eurofxref-hist.xml": hist,
	})
	cbnSrv, cbnURL := newStandIn(t, map[string][]byte{"/GetAllExchangeRates": cbnPayload})

	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	tc := testenv.Temporal(t)
	queue := testenv.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{
			ecb.Name: ecb.NewClient(ecbURL, provider.NewHTTPClient(0)),
			cbn.Name: cbn.NewClient(cbnURL, provider.NewHTTPClient(0)),
		},
		Rates: st.Rates, Quality: st.Quality, Cache: c, Now: time.Now, JumpLimit: decimal.RequireFromString("0.25"),
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	svc := rates.New(st.Rates, st.Quality, c, rates.Options{Providers: []string{ecb.Name, cbn.Name}})

	schedPrefix := "ingest-rates-test-" + testenv.Suffix() + "-"
	for _, p := range []string{ecb.Name, cbn.Name} {
		if _, err := ingestion.EnsureSchedule(ctx, tc, ingestion.ScheduleOptions{
			ID: schedPrefix + p, Provider: p, TaskQueue: queue, Interval: 24 * time.Hour,
		}); err != nil {
			t.Fatal(err)
		}
		h := tc.ScheduleClient().GetHandle(ctx, schedPrefix+p)
		t.Cleanup(func() { h.Delete(context.Background()) })
	}
	ingest := func(t *testing.T, p string) flow.IngestResult {
		t.Helper()
		run := triggerSchedule(t, tc, schedPrefix+p)
		var res flow.IngestResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("ingest %s: %v", p, err)
		}
		return res
	}

	t.Run("both providers publish", func(t *testing.T) {
		if res := ingest(t, ecb.Name); res.Inserted != 31 {
			t.Fatalf("ecb = %+v, want 31 rates", res)
		}
		// One set per currency of the newest CBN date: 12 ISO currencies, WAUA skipped.
		if res := ingest(t, cbn.Name); res.Inserted != 12 || len(res.Skipped) != 1 || res.Skipped[0] != "WAUA" {
			t.Fatalf("cbn = %+v, want 12 rates and WAUA skipped", res)
		}
	})

	t.Run("the source policy prices every pair", func(t *testing.T) {
		tests := []struct {
			from, to, rule, provider, value string
			legProviders                    []string
		}{
			{"USD", "NGN", policy.RuleDirect, "cbn", "1371.8079", []string{"cbn"}},
			{"EUR", "SEK", policy.RuleDirect, "ecb", "9.5375", []string{"ecb"}},
			// Both sources are stale today (the recordings are from 2017
			// and May 2026): the newest publication prices, the CBN's.
			{"GBP", "USD", policy.RuleCross, "cbn", "", []string{"cbn", "cbn"}},
			{"SEK", "NGN", policy.RuleCrossProvider, "ecb+cbn", "", []string{"ecb", "cbn"}},
		}
		for _, tt := range tests {
			t.Run(tt.from+tt.to, func(t *testing.T) {
				r, err := svc.Latest(ctx, tt.from, tt.to, "")
				if err != nil {
					t.Fatal(err)
				}
				if r.Rule != tt.rule || r.Provider != tt.provider || len(r.Legs) != len(tt.legProviders) {
					t.Fatalf("%s/%s = rule %s provider %s legs %v", tt.from, tt.to, r.Rule, r.Provider, r.Legs)
				}
				for i, l := range r.Legs {
					if l.Provider != tt.legProviders[i] {
						t.Fatalf("leg %d from %s, want %s", i, l.Provider, tt.legProviders[i])
					}
				}
				if tt.value != "" && fx.Exact(r.Value) != tt.value {
					t.Fatalf("%s/%s = %s, want %s", tt.from, tt.to, fx.Exact(r.Value), tt.value)
				}
				if v, err := policy.Recompute(tt.from, tt.to, r.Rule, r.Legs); err != nil || !v.Equal(r.Value) {
					t.Fatalf("recomputed %s, %v; served %s", v, err, r.Value)
				}
			})
		}
		// SEK→NGN is EUR→NGN (CBN) ÷ EUR→SEK (ECB), dated by the older leg.
		r, _ := svc.Latest(ctx, "SEK", "NGN", "")
		if want := fx.DivideRates(decimal.RequireFromString("1590.1997"), decimal.RequireFromString("9.5375")); !r.Value.Equal(want) || r.Via != "EUR" {
			t.Fatalf("SEK/NGN = %s via %s, want %s via EUR", r.Value, r.Via, want)
		}
		if !r.AsOf.Equal(ecb.PublicationTime(time.Date(2017, 3, 3, 0, 0, 0, 0, time.UTC))) {
			t.Fatalf("SEK/NGN as_of = %s, want the ECB leg's", r.AsOf)
		}
		// Pinned to the ECB, NGN cannot be priced at all.
		if _, err := svc.Latest(ctx, "SEK", "NGN", ecb.Name); err == nil {
			t.Fatal("provider=ecb priced SEK/NGN")
		}
	})

	t.Run("a 90% jump is quarantined, not served, then released", func(t *testing.T) {
		ecbSrv.set("/eurofxref-daily.xml", jumped(t, hist))
		res := ingest(t, ecb.Name)
		if res.Inserted != 31 || len(res.Quarantined) != 1 || res.Quarantined[0].Quote != "JPY" || res.Quarantined[0].Change != "0.9" {
			t.Fatalf("ingestion = %+v, want JPY quarantined with a 0.9 change", res)
		}
		// The held series prices nothing: EUR/JPY moves to the CBN's
		// cross; pinned to the ECB, the previous rate, under review.
		jpy, err := svc.Latest(ctx, "EUR", "JPY", "")
		if err != nil || jpy.Provider != cbn.Name || jpy.UnderReview {
			t.Fatalf("EUR/JPY while held = %+v, %v; want the CBN's cross", jpy, err)
		}
		jpy, err = svc.Latest(ctx, "EUR", "JPY", ecb.Name)
		if err != nil || fx.Exact(jpy.Value) != "120.83" || !jpy.UnderReview {
			t.Fatalf("EUR/JPY from the ECB while held = %v (under review %v), %v; want the previous 120.83 under review", jpy.Value, jpy.UnderReview, err)
		}
		usd, err := svc.Latest(ctx, "EUR", "USD", ecb.Name)
		if err != nil || !usd.AsOf.Equal(ecb.PublicationTime(time.Date(2017, 3, 6, 0, 0, 0, 0, time.UTC))) {
			t.Fatalf("EUR/USD = %+v, %v; want the new publication", usd, err)
		}
		if _, err := st.Quality.DecideQuarantine(ctx, res.Quarantined[0].QuarantineID, true, "checked against the ECB's site", "ops", gate.Cascade); err != nil {
			t.Fatal(err)
		}
		if err := svc.Resync(ctx, ecb.Name); err != nil {
			t.Fatal(err)
		}
		if jpy, err := svc.Latest(ctx, "EUR", "JPY", ecb.Name); err != nil || fx.Exact(jpy.Value) != "12.083" || jpy.UnderReview {
			t.Fatalf("EUR/JPY after release = %v, %v; want 12.083", jpy.Value, err)
		}
	})

	t.Run("a 60-day backfill after Redis is emptied downloads once and leaves the latest alone", func(t *testing.T) {
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		before := ecbSrv.hits["/eurofxref-hist.xml"].Load() + ecbSrv.hits["/eurofxref-hist-90d.xml"].Load()
		run, err := ingestion.StartBackfill(ctx, tc, queue, flow.BackfillInput{Provider: ecb.Name, From: "2017-01-02", To: "2017-03-02"})
		if err != nil {
			t.Fatal(err)
		}
		var res flow.BackfillResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		downloads := ecbSrv.hits["/eurofxref-hist.xml"].Load() + ecbSrv.hits["/eurofxref-hist-90d.xml"].Load() - before
		if downloads != 1 || res.Days != 44 || res.Inserted != 44*31 || res.AlreadyPresent != 0 {
			// 2017-01-02..2017-03-02 holds 44 TARGET days; none stored before.
			t.Fatalf("backfill = %+v with %d downloads; want 44 days and one download", res, downloads)
		}
		// The backfill's final CacheRates refilled the emptied cache with
		// PostgreSQL's newest released rates, not with the days it stored.
		newest := ecb.PublicationTime(time.Date(2017, 3, 6, 0, 0, 0, 0, time.UTC))
		if all, err := c.Latest(ctx, []string{ecb.Name}); err != nil || len(all[ecb.Name]) != 31 || res.CacheUpdated != 31 {
			t.Fatalf("cache after the backfill: %v, %v (updated %d); want the 31 newest", all, err, res.CacheUpdated)
		}
		// An older day ingested into the emptied cache does not win either.
		if err := rdb.Del(ctx, prefix+"latest:"+ecb.Name).Err(); err != nil {
			t.Fatal(err)
		}
		var old flow.IngestResult
		r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: "ingest-old-" + testenv.Suffix()},
			flow.IngestRatesName, flow.IngestInput{Provider: ecb.Name, Date: "2017-02-01"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Get(ctx, &old); err != nil {
			t.Fatal(err)
		}
		all, err := c.Latest(ctx, []string{ecb.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all[ecb.Name] {
			if !r.AsOf.Equal(newest) {
				t.Fatalf("cached %s/%s is from %s, older than PostgreSQL's newest %s", r.Base, r.Quote, r.AsOf, newest)
			}
		}
		if usd, err := svc.Latest(ctx, "EUR", "USD", ecb.Name); err != nil || !usd.AsOf.Equal(newest) {
			t.Fatalf("EUR/USD after backfill = %+v, %v; want the 2017-03-06 rate", usd, err)
		}
		if cbnSrv.hits["/GetAllExchangeRates"].Load() != 1 {
			t.Fatalf("the CBN was asked %d times, want once", cbnSrv.hits["/GetAllExchangeRates"].Load())
		}
	})

	t.Run("removing a provider pauses its schedule, adding it back resumes it", func(t *testing.T) {
		paused, err := ingestion.Reconcile(ctx, tc, schedPrefix, config.KnownProviders, []string{ecb.Name})
		if err != nil {
			t.Fatal(err)
		}
		if len(paused) != 1 || paused[0] != schedPrefix+cbn.Name {
			t.Fatalf("paused %v, want the cbn schedule only", paused)
		}
		d, err := tc.ScheduleClient().GetHandle(ctx, schedPrefix+cbn.Name).Describe(ctx)
		if err != nil || !d.Schedule.State.Paused || !strings.Contains(d.Schedule.State.Note, "no longer in FX_PROVIDERS") {
			t.Fatalf("cbn schedule state = %+v, %v", d.Schedule.State, err)
		}
		if _, err := ingestion.EnsureSchedule(ctx, tc, ingestion.ScheduleOptions{
			ID: schedPrefix + cbn.Name, Provider: cbn.Name, TaskQueue: queue, Interval: 24 * time.Hour,
		}); err != nil {
			t.Fatal(err)
		}
		if d, err := tc.ScheduleClient().GetHandle(ctx, schedPrefix+cbn.Name).Describe(ctx); err != nil || d.Schedule.State.Paused {
			t.Fatalf("cbn schedule after it was configured again: %+v, %v", d.Schedule.State, err)
		}
	})
}

// triggerSchedule fires a schedule once and returns the run it started.
func triggerSchedule(t *testing.T, tc client.Client, id string) client.WorkflowRun {
	t.Helper()
	ctx := context.Background()
	h := tc.ScheduleClient().GetHandle(ctx, id)
	before, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.Info.RecentActions); n > len(before.Info.RecentActions) {
			r := d.Info.RecentActions[n-1].StartWorkflowResult
			return tc.GetWorkflow(ctx, r.WorkflowID, r.FirstExecutionRunID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the schedule did not start a run after Trigger")
	return nil
}
