package tracing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ces/internal/clients"
	"ces/internal/ingestion"
	"ces/internal/store"
	"ces/internal/testenv"
)

// EnvJaeger names the Jaeger all-in-one binary the test tooling builds
// (scripts/lib.sh ensure_jaeger: bin/jaeger).
const EnvJaeger = "CES_TEST_JAEGER"

// The amount converted, and the database logins' password: neither may
// appear in any span.
const (
	amount        = "4321.98"
	loginPassword = "tracing-test-only"
)

// TestTracesInJaeger runs the real api and worker with tracing on, sending
// OTLP to a Jaeger on loopback (the api over HTTP, the worker over gRPC),
// then reads the traces back from Jaeger's query API: a conversion's trace
// holds the request's span, the rates lookup and the write in one tree;
// a triggered ingestion's trace holds the workflow, its three activities,
// and the provider's HTTP call under the fetch. No attribute carries the
// API key, the amount, a password or SQL text.
func TestTracesInJaeger(t *testing.T) {
	jaegerBin := os.Getenv(EnvJaeger)
	if jaegerBin == "" {
		testenv.Unavailable(t, "%s is not set (make test builds Jaeger into bin/ and sets it)", EnvJaeger)
	}
	if _, err := os.Stat(jaegerBin); err != nil {
		testenv.Unavailable(t, "no Jaeger at %s: %v", jaegerBin, err)
	}
	temporalAddr := testenv.TemporalAddress(t)
	dsn := testenv.DatabaseURL(t)
	ctx := context.Background()
	owner, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	st := store.New(owner)
	apiURL := testenv.Login(t, owner, dsn, "t_trace_api_", store.APIRole, loginPassword)
	workerURL := testenv.Login(t, owner, dsn, "t_trace_worker_", store.WorkerRole, loginPassword)
	k, key, hash, err := clients.NewKey("tracing", clients.DefaultScopes, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Keys.CreateAPIKey(ctx, k, hash); err != nil {
		t.Fatal(err)
	}
	redisURL := privateRedis(t)
	j := startJaeger(t, jaegerBin)
	bins := buildCES(t)
	publishers := testenv.Replay(t, filepath.Join(testenv.RepoRoot(t), "testdata"), []string{"ecb"}, nil)
	queue := testenv.TaskQueue(t)
	common := []string{
		"PATH=" + os.Getenv("PATH"), "REDIS_URL=" + redisURL, "TEMPORAL_ADDRESS=" + temporalAddr,
		"TEMPORAL_TASK_QUEUE=" + queue, "TEMPORAL_AUDIT_TASK_QUEUE=" + queue + "-audit",
		"FX_PROVIDERS=ecb", "FX_ECB_BASE_URL=" + publishers["ecb"],
		// The recording is from 2017.
		"RATE_STALE_AFTER=876000h", "CONVERT_MAX_RATE_AGE=876000h", "PUBLISHER_SILENT_AFTER_DAYS=0",
		"OTEL_TRACES_SAMPLER=always_on", "OTEL_BSP_SCHEDULE_DELAY=100",
	}

	// The ingestion: the schedule's workflow, triggered now.
	worker := start(t, "worker", bins["worker"], append(common, "DATABASE_URL="+workerURL.String(), "WORKER_QUEUES=ingest",
		"METRICS_ADDR="+freeAddr(t), "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+j.grpc))
	tc := testenv.Temporal(t)
	scheduleID := "trace-test-" + testenv.Suffix()
	if _, err := ingestion.EnsureSchedule(ctx, tc, ingestion.ScheduleOptions{ID: scheduleID, Provider: "ecb", TaskQueue: queue, Cron: []string{"0 0 1 1 *"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.ScheduleClient().GetHandle(context.Background(), scheduleID).Delete(context.Background()) })
	if err := ingestion.NewControl(tc, "ecb", scheduleID).Trigger(ctx); err != nil {
		t.Fatal(err)
	}
	rdb := redisClient(t, redisURL)
	if !eventually(60*time.Second, func() bool { return rdb.Exists(ctx, "ces:latest:ecb").Val() == 1 }) {
		t.Fatalf("the ingestion did not cache the ECB's rates:\n%s", worker.String())
	}

	// The conversion, through the api.
	api := start(t, "api", bins["api"], append(common, "DATABASE_URL="+apiURL.String(), "HTTP_ADDR="+freeAddr(t), "ADMIN_ADDR="+freeAddr(t),
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+j.http))
	base := "http://" + api.env("HTTP_ADDR")
	waitHealthy(t, base, api)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/convert", strings.NewReader(`{"amount":"`+amount+`","from_currency":"EUR","to_currency":"USD"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var receipt struct {
		ID string `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&receipt)
	resp.Body.Close()
	requestID := resp.Header.Get("X-Request-ID")
	if resp.StatusCode != http.StatusCreated || receipt.ID == "" {
		t.Fatalf("convert: %d, receipt %q\n%s", resp.StatusCode, receipt.ID, api.String())
	}

	secrets := []string{key, amount, loginPassword, strings.TrimPrefix(key, "Bearer ")}

	t.Run("conversion", func(t *testing.T) {
		tr := j.waitTrace(t, "ces-api", "POST /api/v1/convert", func(tr trace) bool {
			return tr.one("store.record_conversion") != nil && tr.one("rates.latest") != nil
		})
		t.Logf("the conversion's trace: %v", tr.names())
		root := tr.one("POST /api/v1/convert")
		if root == nil || root.parent() != "" {
			t.Fatalf("no root span POST /api/v1/convert: %v", tr.names())
		}
		if got := root.tag("ces.request_id"); got != requestID {
			t.Errorf("request id attribute %q, X-Request-ID %q", got, requestID)
		}
		if got := root.tag("http.route"); got != "/api/v1/convert" {
			t.Errorf("http.route %q", got)
		}
		lookup, write := tr.one("rates.latest"), tr.one("store.record_conversion")
		for _, s := range []*span{lookup, write, tr.one("clients.authenticate"), tr.one("clients.quota")} {
			if s == nil {
				t.Fatalf("spans %v: want rates.latest, store.record_conversion, clients.authenticate, clients.quota", tr.names())
			}
			if !tr.under(s, root) {
				t.Errorf("%s is not under the request's span", s.OperationName)
			}
		}
		if tier := lookup.tag("ces.rates.tier"); tier != "near" && tier != "redis" && tier != "database" {
			t.Errorf("rates.latest: ces.rates.tier %q", tier)
		}
		if got := write.tag("ces.receipt_id"); got != receipt.ID {
			t.Errorf("write span receipt id %q, receipt %q", got, receipt.ID)
		}
		// The key's lookup went to PostgreSQL through pgx's tracer, or
		// Redis through redisotel: some database span is in the tree.
		if !tr.has(func(s *span) bool {
			return s.tag("db.system.name") == "postgresql" && s.OperationName != "store.record_conversion"
		}) {
			t.Errorf("no pgx span in the conversion's trace: %v", tr.names())
		}
	})

	t.Run("ingestion", func(t *testing.T) {
		tr := j.waitTrace(t, "ces-worker", "RunWorkflow:IngestRates", func(tr trace) bool {
			return tr.one("RunActivity:CacheRates") != nil && tr.one("HTTP GET") != nil
		})
		t.Logf("the ingestion's trace: %v", tr.names())
		wf := tr.one("RunWorkflow:IngestRates")
		if wf == nil {
			t.Fatalf("no workflow span: %v", tr.names())
		}
		for _, name := range []string{"RunActivity:FetchRates", "RunActivity:InsertRates", "RunActivity:CacheRates"} {
			a := tr.one(name)
			if a == nil {
				t.Fatalf("no %s in the workflow's trace: %v", name, tr.names())
			}
			if !tr.under(a, wf) {
				t.Errorf("%s is not under the workflow's span", name)
			}
		}
		call := tr.one("HTTP GET")
		if call == nil || !tr.under(call, tr.one("RunActivity:FetchRates")) {
			t.Errorf("the provider's HTTP call is not under FetchRates: %v", tr.names())
		} else if u := call.tag("url.full"); !strings.HasPrefix(u, publishers["ecb"]) || strings.Contains(u, "?") {
			t.Errorf("provider call url.full %q", u)
		}
		insert, cache := tr.one("RunActivity:InsertRates"), tr.one("RunActivity:CacheRates")
		if !tr.has(func(s *span) bool { return s.tag("db.system.name") == "postgresql" && tr.under(s, insert) }) {
			t.Errorf("no pgx span under InsertRates: %v", tr.names())
		}
		// redisotel still uses the older db.system.
		if !tr.has(func(s *span) bool { return s.tag("db.system") == "redis" && tr.under(s, cache) }) {
			t.Errorf("no Redis span under CacheRates: %v", tr.names())
		}
	})

	t.Run("no secrets", func(t *testing.T) {
		for _, svc := range []string{"ces-api", "ces-worker"} {
			for _, tr := range j.traces(t, svc, "") {
				for _, s := range tr.Spans {
					for _, tag := range s.Tags {
						v := fmt.Sprint(tag.Value)
						for _, secret := range secrets {
							if secret != "" && strings.Contains(v, secret) {
								t.Errorf("%s span %s: attribute %s holds a secret or the amount: %q", svc, s.OperationName, tag.Key, v)
							}
						}
						switch tag.Key {
						case "db.statement", "db.query.text", "db.query.parameter", "http.request.header.authorization":
							t.Errorf("%s span %s carries %s", svc, s.OperationName, tag.Key)
						}
						// A statement's name ("SELECT rates") is fine; its text is not.
						if u := strings.ToUpper(v); strings.Contains(u, "INSERT INTO") || strings.Contains(u, " FROM ") || strings.Contains(u, " WHERE ") || strings.Contains(u, "VALUES") {
							t.Errorf("%s span %s: attribute %s holds SQL text: %q", svc, s.OperationName, tag.Key, v)
						}
					}
				}
			}
		}
	})
}

// jaeger is a Jaeger all-in-one on loopback: OTLP in, the query API out.
type jaeger struct {
	grpc, http, query string
}

func startJaeger(t *testing.T, bin string) *jaeger {
	t.Helper()
	j := &jaeger{grpc: freeAddr(t), http: freeAddr(t), query: freeAddr(t)}
	cfg := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %s
    grpc:
      endpoint: %s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, j.query, freeAddr(t), j.grpc, j.http)
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Jaeger's own traces would go to the default OTLP port.
	p := start(t, "jaeger", bin, []string{"PATH=" + os.Getenv("PATH"), "OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none"}, "--config", path)
	if !eventually(30*time.Second, func() bool {
		r, err := http.Get("http://" + j.query + "/api/services")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	}) {
		t.Fatalf("jaeger did not start:\n%s", p.String())
	}
	return j
}

// trace is one trace as Jaeger's query API answers it.
type trace struct {
	TraceID string  `json:"traceID"`
	Spans   []*span `json:"spans"`
}

type span struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s *span) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (s *span) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// one returns the span named name, nil when the trace has none.
func (tr trace) one(name string) *span {
	for _, s := range tr.Spans {
		if s.OperationName == name {
			return s
		}
	}
	return nil
}

func (tr trace) has(ok func(*span) bool) bool {
	for _, s := range tr.Spans {
		if ok(s) {
			return true
		}
	}
	return false
}

// under reports whether s descends from ancestor through parent links.
func (tr trace) under(s, ancestor *span) bool {
	if s == nil || ancestor == nil {
		return false
	}
	byID := map[string]*span{}
	for _, x := range tr.Spans {
		byID[x.SpanID] = x
	}
	for cur, hops := s, 0; cur != nil && hops < 100; hops++ {
		p := cur.parent()
		if p == ancestor.SpanID {
			return true
		}
		cur = byID[p]
	}
	return false
}

func (tr trace) names() []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, s.OperationName)
	}
	return out
}

// traces asks Jaeger for service's recent traces (of one operation, when
// set).
func (j *jaeger) traces(t *testing.T, service, operation string) []trace {
	t.Helper()
	q := url.Values{"service": {service}, "lookback": {"1h"}, "limit": {"100"}}
	if operation != "" {
		q.Set("operation", operation)
	}
	r, err := http.Get("http://" + j.query + "/api/traces?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body struct {
		Data []trace `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		t.Fatalf("jaeger /api/traces: %d: %v", r.StatusCode, err)
	}
	return body.Data
}

// waitTrace returns the first trace of service holding a span named
// operation for which complete holds, once Jaeger has it.
func (j *jaeger) waitTrace(t *testing.T, service, operation string, complete func(trace) bool) trace {
	t.Helper()
	var found trace
	var seen []string
	ok := eventually(30*time.Second, func() bool {
		seen = seen[:0]
		for _, tr := range j.traces(t, service, operation) {
			seen = append(seen, strings.Join(tr.names(), ","))
			if complete(tr) {
				found = tr
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no complete %s trace of %s in Jaeger; traces seen: %q", operation, service, seen)
	}
	return found
}

// proc is a process of the test's, its output kept for failure messages.
type proc struct {
	name    string
	environ []string
	mu      sync.Mutex
	out     strings.Builder
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name + ":\n" + p.out.String()
}

func (p *proc) env(name string) string {
	for _, kv := range p.environ {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

// start runs bin with environ and args until the test ends.
func start(t *testing.T, name, bin string, environ []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, environ: environ}
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir() // no .data/env to pick up
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Log(p.String())
		}
	})
	return p
}

func waitHealthy(t *testing.T, base string, p *proc) {
	t.Helper()
	if !eventually(30*time.Second, func() bool {
		r, err := http.Get(base + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	}) {
		t.Fatalf("%s did not come up:\n%s", base, p.String())
	}
}

// buildCES builds the api and the worker into a temporary directory.
func buildCES(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./api", "./worker")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return map[string]string{"api": filepath.Join(dir, "api"), "worker": filepath.Join(dir, "worker")}
}

// redisDB is the test Redis's database the processes use: their keys
// start with ces:, like every other CES process's, so they get one of
// their own (the README test has 15).
const redisDB = 14

func privateRedis(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/%d", redisDB)
	rdb := redisClient(t, u.String())
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		testenv.Unavailable(t, "redis: %v", err)
	}
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	return u.String()
}

func redisClient(t *testing.T, u string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))
}

func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}
