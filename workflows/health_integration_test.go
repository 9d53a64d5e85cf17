package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/httpapi"
	"ces/internal/ingestion"
	"ces/internal/metrics"
	"ces/internal/policy"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/provider/hkma"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
	"ces/workflows"
)

// EnvRecordHealthHistory, set to a file name, makes
// TestPublisherHealthLateThenSilent run its checks on the ces-ingest queue
// and write the history of a scheduled run there (the recorded history
// workflows/replay_test.go replays).
const EnvRecordHealthHistory = "CES_RECORD_HEALTH_HISTORY"

// healthStack is a worker with the health activities over a database
// holding two recordings, the API over the same database, and a clock.
type healthStack struct {
	tc      client.Client
	queue   string
	st      *store.Store
	metrics *metrics.Worker
	svc     *rates.Service
	api     *fiber.App
	clock   atomic.Pointer[time.Time]
}

// storeRecording loads a recording's publications as ingestion stores them.
func storeRecording(t *testing.T, st *store.Store, sets []fx.RateSet) {
	t.Helper()
	if _, err := st.Rates.InsertSets(context.Background(), sets, store.Origin{WorkflowID: "replay", RunID: "replay", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func newHealthStack(t *testing.T) *healthStack {
	t.Helper()
	s := &healthStack{st: store.New(testenv.DB(t)), tc: testenv.Temporal(t), queue: testenv.TaskQueue(t)}
	if os.Getenv(EnvRecordHealthHistory) != "" {
		s.queue = "ces-ingest"
	}
	// The ECB's 90-day history of March 2017 with the week of 6-10
	// February removed (testdata/README.md), and the HKMA's last days of
	// February 2026.
	b, err := os.ReadFile("../testdata/ecb/eurofxref-hist-90d-2017-missing-week.xml")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := ecb.Parse(ecb.Name, b)
	if err != nil {
		t.Fatal(err)
	}
	storeRecording(t, s.st, sets)
	if b, err = os.ReadFile("../testdata/hkma/er-eeri-daily-2026-02-25-to-2026-02-28.json"); err != nil {
		t.Fatal(err)
	}
	sets, _, err = hkma.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	storeRecording(t, s.st, sets)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if s.metrics, err = metrics.NewWorker(quiet); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	w := worker.New(s.tc, s.queue, worker.Options{})
	unreachable := provider.NewHTTPClient(0)
	workflows.Register(w, &activities.Activities{
		// Only their names matter here: nothing is fetched.
		Providers: map[string]provider.Source{
			ecb.Name:  ecb.NewClient("http://127.0.0.1:1", unreachable),
			hkma.Name: hkma.NewClient("http://127.0.0.1:1", unreachable),
		},
		Rates: s.st.Rates, Quality: s.st.Quality, Cache: c, Now: time.Now,
		Publications: s.st.Rates, Health: s.st.Health, HealthRule: policy.DefaultHealthRule, HealthMetrics: s.metrics,
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	now := time.Now()
	s.clock.Store(&now)
	clock := func() time.Time { return *s.clock.Load() }
	// A bound far longer than the gap (RATE_STALE_AFTER=720h): only
	// silence can make the ECB's rates stale here.
	s.svc = rates.New(s.st.Rates, s.st.Quality, c, rates.Options{
		Providers: []string{ecb.Name, hkma.Name}, StaleAfter: func(string) time.Duration { return 720 * time.Hour },
		Now: clock, Log: quiet, Health: s.st.Health,
	})
	s.api = httpapi.New(httpapi.Deps{Rates: s.svc, RatesPublic: true, Now: clock, Log: quiet})
	return s
}

// check runs CheckPublisherHealth for providers at at through Temporal,
// then moves the clock there and lets the API read the checks.
func (s *healthStack) check(t *testing.T, at time.Time, providers ...string) flow.CheckPublisherHealthResult {
	t.Helper()
	ctx := context.Background()
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "publisher-health-test-" + testenv.Suffix(), TaskQueue: s.queue},
		flow.CheckPublisherHealthName, flow.CheckPublisherHealthInput{Providers: providers, At: at})
	if err != nil {
		t.Fatal(err)
	}
	var res flow.CheckPublisherHealthResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	s.clock.Store(&at)
	if err := s.svc.RefreshHealth(ctx); err != nil {
		t.Fatal(err)
	}
	return res
}

// gauge reads one of the worker's gauges for provider; false when absent.
func (s *healthStack) gauge(t *testing.T, name, provider string) (float64, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := regexp.MustCompile(`(?m)^` + name + `\{provider="` + provider + `"\} (\S+)$`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

type providerHealth struct {
	Key    string `json:"key"`
	Stale  bool   `json:"stale"`
	Health *struct {
		Status    string `json:"status"`
		Expected  int    `json:"expected"`
		Missed    int    `json:"missed"`
		Newest    string `json:"newest"`
		CheckedAt string `json:"checked_at"`
	} `json:"health"`
}

func (s *healthStack) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := s.api.Test(httptest.NewRequest("GET", path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

func (s *healthStack) provider(t *testing.T, key string) providerHealth {
	t.Helper()
	var body struct {
		Providers []providerHealth `json:"providers"`
	}
	s.get(t, "/api/v1/providers", &body)
	for _, p := range body.Providers {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no provider %s", key)
	return providerHealth{}
}

// TestPublisherHealthLateThenSilent replays the ECB's recording with a
// week missing (6 to 10 February 2017) and checks it through Temporal as
// the clock moves across the gap: healthy after one missing day, late
// after two, silent after five, healthy again once it publishes, the gap
// still counted as missed. The worker's gauges and GET /api/v1/providers
// say the same at every step, and only a silent ECB's rates are stale.
// The HKMA, monthly, is never late inside a month.
func TestPublisherHealthLateThenSilent(t *testing.T) {
	s := newHealthStack(t)
	friday := ecb.PublicationTime(time.Date(2017, 2, 3, 0, 0, 0, 0, time.UTC))
	monday13 := ecb.PublicationTime(time.Date(2017, 2, 13, 0, 0, 0, 0, time.UTC))
	noon := func(d int) time.Time { return time.Date(2017, 2, d, 12, 0, 0, 0, time.UTC) }
	steps := []struct {
		name   string
		at     time.Time
		status policy.HealthStatus
		missed int
		newest time.Time
	}{
		{"friday's publication covers the weekend", noon(6), policy.Healthy, 0, friday},
		{"one missing day may be a holiday", noon(7), policy.Healthy, 1, friday},
		{"two missing business days are late", noon(8), policy.Late, 2, friday},
		{"still late on the friday", noon(10), policy.Late, 4, friday},
		{"a whole working week ended without one: silent", noon(11), policy.Silent, 5, friday},
		{"still silent on monday before its publication", noon(13), policy.Silent, 5, friday},
		{"monday 13th published: healthy, the week still missed", noon(14), policy.Healthy, 5, monday13},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := s.check(t, st.at, ecb.Name)
			if res.Checked != 1 || (st.status == policy.Silent) != (len(res.Silent) == 1) || (st.status == policy.Late) != (len(res.Late) == 1) {
				t.Fatalf("workflow result %+v, want ecb %s", res, st.status)
			}
			missed, ok := s.gauge(t, "ces_provider_publications_missed", ecb.Name)
			if !ok || int(missed) != st.missed {
				t.Fatalf("ces_provider_publications_missed = %v (%t), want %d", missed, ok, st.missed)
			}
			age, ok := s.gauge(t, "ces_provider_newest_age_seconds", ecb.Name)
			if want := st.at.Sub(st.newest).Seconds(); !ok || age != want {
				t.Fatalf("ces_provider_newest_age_seconds = %v (%t), want %v", age, ok, want)
			}
			p := s.provider(t, ecb.Name)
			h := p.Health
			if h == nil || h.Status != string(st.status) || h.Missed != int(missed) || h.CheckedAt != st.at.Format(time.RFC3339) || h.Newest != st.newest.Format(time.RFC3339) {
				t.Fatalf("GET /api/v1/providers ecb health = %+v, want %s, missed %d, newest %s", h, st.status, int(missed), st.newest)
			}
			// The API's age of the newest publication is the gauge's.
			checked, _ := time.Parse(time.RFC3339, h.CheckedAt)
			newest, _ := time.Parse(time.RFC3339, h.Newest)
			if checked.Sub(newest).Seconds() != age {
				t.Fatalf("API: newest %s at %s, gauge: age %vs", h.Newest, h.CheckedAt, age)
			}
			silent := st.status == policy.Silent
			if p.Stale != silent {
				t.Fatalf("provider stale = %t, want %t", p.Stale, silent)
			}
			var r struct {
				Stale bool   `json:"stale"`
				AsOf  string `json:"as_of"`
			}
			s.get(t, "/api/v1/rates?from=EUR&to=USD&at="+st.at.Format(time.RFC3339), &r)
			if r.Stale != silent || r.AsOf != st.newest.Format(time.RFC3339) {
				t.Fatalf("EUR/USD at %s: stale %t as_of %s; want stale %t as_of %s", st.at, r.Stale, r.AsOf, silent, st.newest)
			}
		})
	}

	// The HKMA publishes February's days during March: inside March and
	// April it is never late; once April ends without March's figures it is.
	for _, st := range []struct {
		at     time.Time
		status policy.HealthStatus
	}{
		{time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC), policy.Healthy},
		{time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC), policy.Healthy},
		{time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC), policy.Healthy},
		{time.Date(2026, 4, 30, 23, 30, 0, 0, time.UTC), policy.Healthy},
		{time.Date(2026, 5, 1, 0, 30, 0, 0, time.UTC), policy.Late},
		{time.Date(2026, 6, 1, 0, 30, 0, 0, time.UTC), policy.Silent},
	} {
		t.Run(fmt.Sprintf("hkma at %s", st.at.Format(time.RFC3339)), func(t *testing.T) {
			s.check(t, st.at, hkma.Name)
			status, _ := s.gauge(t, "ces_provider_health_status", hkma.Name)
			if h := s.provider(t, hkma.Name).Health; h == nil || h.Status != string(st.status) || status != map[policy.HealthStatus]float64{policy.Healthy: 0, policy.Late: 1, policy.Silent: 2}[st.status] {
				t.Fatalf("hkma health = %+v, gauge %v; want %s", h, status, st.status)
			}
		})
	}

	t.Run("the publisher-health schedule runs the check", func(t *testing.T) {
		ctx := context.Background()
		id := "publisher-health-test-" + testenv.Suffix()
		if os.Getenv(EnvRecordHealthHistory) != "" {
			id = flow.PublisherHealthScheduleID
		}
		if _, err := ingestion.EnsurePublisherHealthSchedule(ctx, s.tc, id, s.queue); err != nil {
			t.Fatal(err)
		}
		run := triggerSchedule(t, s.tc, id)
		h := s.tc.ScheduleClient().GetHandle(ctx, id)
		t.Cleanup(func() { h.Delete(context.Background()) })
		var res flow.CheckPublisherHealthResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		// Today both recordings are long over.
		if res.Checked != 2 || len(res.Silent) != 2 || time.Since(res.At) > time.Minute {
			t.Fatalf("scheduled check = %+v, want both publishers silent now", res)
		}
		if file := os.Getenv(EnvRecordHealthHistory); file != "" {
			writeHistory(t, s.tc, run, filepath.Join("testdata", file))
		}
	})
}

// writeHistory writes a run's history as `temporal workflow show --output
// json` does.
func writeHistory(t *testing.T, tc client.Client, run client.WorkflowRun, path string) {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var hist historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&hist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
