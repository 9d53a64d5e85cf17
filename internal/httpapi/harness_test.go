package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/cache"
	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/config"
	"ces/internal/conversions"
	"ces/internal/fx"
	"ces/internal/httpapi"
	"ces/internal/metrics"
	"ces/internal/provider/ecb"
	"ces/internal/provider/oxr"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// quiet keeps access logs out of test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// queryCounter counts the SQL statements the driver sends, bun's and
// prepared ones alike.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}
func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// world is a CES API over a real database and Redis.
type world struct {
	app *fiber.App
	// admin is the operators' app (ADMIN_ADDR): /metrics, and the console
	// when a test mounts one.
	admin   *fiber.App
	db      *bun.DB
	st      *store.Store
	cache   *cache.Cache
	queries *queryCounter
	now     time.Time
	conv    *conversions.Service
	rates   *rates.Service
	rdb     redis.UniversalClient // the test's own Redis key space, under prefix
	prefix  string
	// key is a client's API key with every scope, sent by post and by
	// get to /api/v1/conversions unless a test sends its own
	// Authorization ("-": none); auth checks keys.
	key   string
	keyID string
	auth  *clients.Authenticator
	deps  httpapi.Deps
	// quotaRedis and quotaPrefix are where quotas are kept.
	quotaRedis  redis.UniversalClient
	quotaPrefix string
}

type options struct {
	provider string
	// providers, when set, are served instead of provider alone.
	providers []string
	redisURL  string // empty: the test Redis
	// redis, when set, is the Redis of everything (a cluster, a Sentinel
	// group), under the production prefix "ces:".
	redis      redis.UniversalClient
	now        time.Time
	lastError  string
	staleAfter time.Duration
	margin     string
	maxAge     time.Duration
	metrics    bool
	nearCache  bool // in-process copy with the 1 s bound, fed by pub/sub
	noWatch    bool // with nearCache: no pub/sub, the bound alone
	// historyCache answers at= and history from memory, as the API does
	// by default, once it listens to PostgreSQL.
	historyCache bool
	// requestTimeout is the API's REQUEST_TIMEOUT; zero: none.
	requestTimeout time.Duration
	// ratesPrivate requires a key for lookups (RATES_PUBLIC=false).
	ratesPrivate bool
	// quotas, when set, are the per-minute quotas by scope.
	quotas map[string]int
	// quoteTTL is QUOTE_TTL; zero: the default.
	quoteTTL time.Duration
	// trustedProxies are TRUSTED_PROXIES (app.Test's peer is 0.0.0.0).
	trustedProxies clientaddr.Proxies
}

func newWorld(t testing.TB, o options) *world {
	t.Helper()
	if o.provider == "" {
		o.provider = ecb.Name
	}
	if o.now.IsZero() {
		o.now = time.Date(2017, 3, 6, 12, 0, 0, 0, time.UTC) // the Monday after the newest ECB day
	}
	if o.staleAfter == 0 {
		o.staleAfter = 97 * time.Hour
	}
	w := &world{queries: &queryCounter{}, now: o.now}
	w.db = testenv.TracedDB(t, w.queries)
	w.st = store.New(w.db)
	if o.redis != nil {
		w.cache = cache.New(o.redis, "ces:")
		w.rdb, w.prefix = o.redis, "ces:"
	} else if o.redisURL == "" {
		rdb, prefix := testenv.Redis(t)
		w.cache = cache.New(rdb, prefix)
		w.rdb, w.prefix = rdb, prefix
	} else {
		rdb, err := cache.NewClient(cache.Conn{URL: o.redisURL}, cache.APITimeouts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		w.cache = cache.New(rdb, "unreachable:")
	}
	if o.providers == nil {
		o.providers = []string{o.provider}
	}
	var m *metrics.API
	var observer rates.Observer
	if o.metrics {
		m = metrics.NewAPI(o.providers, w.st.Rates.NewestAsOf, func() time.Time { return w.now })
		observer = m
	}
	// One bound for every publisher but the legal pegs, as the API reads
	// RATE_STALE_AFTER and CONVERT_MAX_RATE_AGE.
	cfg := config.Config{RateStaleAfter: o.staleAfter, ConvertMaxRateAge: o.maxAge}
	if cfg.ConvertMaxRateAge == 0 {
		cfg.ConvertMaxRateAge = o.staleAfter
	}
	staleAfter := cfg.StaleAfter
	ropts := rates.Options{Providers: o.providers, Authority: rates.DefaultAuthority(), StaleAfter: staleAfter, Now: func() time.Time { return w.now }, Log: quiet, Observer: observer, Health: w.st.Health}
	if o.nearCache {
		ropts.NearCacheTTL = rates.NearCacheTTL
	}
	if o.historyCache {
		ropts.HistoryCacheBytes = rates.DefaultHistoryCacheBytes
	}
	svc := rates.New(w.st.Rates, w.st.Quality, w.cache, ropts)
	if (o.nearCache && !o.noWatch) || o.historyCache {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go svc.Watch(ctx)
	}
	for o.historyCache && !svc.HistoryCache().Ready {
		time.Sleep(time.Millisecond)
	}
	if o.margin == "" {
		o.margin = "0.005"
	}
	w.conv = conversions.New(svc, w.st.Conversions, conversions.Options{
		Margin: decimal.RequireFromString(o.margin), MaxRateAge: cfg.MaxConvertAge, StaleAfter: staleAfter, Now: func() time.Time { return w.now },
		QuoteTTL: o.quoteTTL,
	})
	// Keys are checked through a working Redis even when the rates' Redis
	// is made unreachable or frozen: those tests are about lookups.
	authRedis, authPrefix := w.rdb, w.prefix
	if authRedis == nil {
		authRedis, authPrefix = testenv.Redis(t)
	}
	w.auth = clients.NewAuthenticator(w.st.Keys, authRedis, authPrefix, quiet)
	actx, stopAuth := context.WithCancel(context.Background())
	t.Cleanup(stopAuth)
	go w.auth.Watch(actx)
	// Keys are cached only once revocations can reach this replica: a test
	// that closes the database after a first request relies on the cache.
	for deadline := time.Now().Add(10 * time.Second); !w.auth.Listening(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the authenticator did not subscribe to revocations within 10 s")
		}
	}
	w.key, w.keyID = w.newKey(t, "test client", clients.ScopeRatesRead, clients.ScopeConvert)
	deps := httpapi.Deps{
		Auth:        w.auth,
		RatesPublic: !o.ratesPrivate,
		Rates:       svc,
		Conversions: w.conv,
		AuditKeys:   w.st.Audit,
		Checks: map[string]httpapi.Check{
			"postgres":        w.st.Ping,
			"postgres_writes": func(ctx context.Context) error { return w.st.Conversions.CanWrite(ctx, 250*time.Millisecond) },
			"redis":           w.cache.Ping,
		},
		Required:           []string{"postgres"},
		LastIngestionError: func(context.Context) string { return o.lastError },
		Log:                quiet,
		RequestTimeout:     o.requestTimeout,
		TrustedProxies:     o.trustedProxies,
	}
	if m != nil {
		deps.Metrics, deps.MetricsHandler = m, m.Handler()
	}
	if o.quotas != nil {
		w.quotaRedis, w.quotaPrefix = authRedis, authPrefix
		deps.Quotas = clients.NewQuotas(authRedis, authPrefix, o.quotas, nil)
	}
	w.deps = deps
	w.app = httpapi.New(deps)
	w.admin = httpapi.NewAdmin(deps)
	w.rates = svc
	return w
}

// ingest stores sets (given newest first, as parsers return them) oldest
// first, the way successive ingestions would, and caches each provider's
// latest released rates as CacheRates does.
func (w *world) ingest(t testing.TB, sets ...fx.RateSet) {
	t.Helper()
	ctx := context.Background()
	provs := map[string]bool{}
	for i := len(sets) - 1; i >= 0; i-- {
		if _, err := w.st.Rates.InsertRates(ctx, sets[i], store.Origin{WorkflowID: "ingest-rates/test", RunID: "run", FetchedAt: sets[i].AsOf.Add(5 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		provs[sets[i].Provider] = true
	}
	for p := range provs {
		rows, err := w.st.Rates.LatestServable(ctx, []string{p}, nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cache.SetLatest(ctx, p, rows, ""); err != nil {
			t.Logf("cache not seeded: %v", err)
		}
	}
	// The first lookup would cache the (empty) set of suspended pairs.
	if err := w.rates.SyncSuspensions(ctx); err != nil {
		t.Logf("suspensions not cached: %v", err)
	}
	// As CacheRates does after every ingestion.
	if err := w.rates.SyncHeld(ctx); err != nil {
		t.Logf("held series not cached: %v", err)
	}
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ecbHistory(t testing.TB) []fx.RateSet {
	sets, err := ecb.Parse(ecb.Name, readFixture(t, "ecb/eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func oxrLatest(t testing.TB) fx.RateSet {
	set, err := oxr.Parse(oxr.Name, readFixture(t, "oxr/latest-2022-09-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (w *world) get(t *testing.T, target string, headers ...string) response {
	t.Helper()
	return w.do(t, http.MethodGet, target, "", headers...)
}

func (w *world) post(t *testing.T, target, body string, headers ...string) response {
	t.Helper()
	return w.do(t, http.MethodPost, target, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

func (w *world) do(t *testing.T, method, target, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, target, rd)
	if method == http.MethodPost || strings.HasPrefix(target, "/api/v1/conversions") {
		req.Header.Set("Authorization", "Bearer "+w.key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
		if headers[i] == "Authorization" && headers[i+1] == "-" {
			req.Header.Del("Authorization")
		}
	}
	return w.send(t, req)
}

// send runs req through the public app as it is.
func (w *world) send(t *testing.T, req *http.Request) response {
	t.Helper()
	return sendTo(t, w.app, req)
}

// adminGet asks the operators' app for target.
func (w *world) adminGet(t *testing.T, target string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	return sendTo(t, w.admin, req)
}

func sendTo(t *testing.T, app *fiber.App, req *http.Request) response {
	t.Helper()
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: got}
}

// golden compares a response with testdata/golden/name.json: status, the
// headers that are part of the contract, and the body, pretty-printed.
func golden(t *testing.T, name string, r response) {
	t.Helper()
	var body any
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("body is not JSON: %s", r.Body)
		}
	}
	got := map[string]any{"status": r.Status, "body": body}
	for _, h := range []string{"Content-Type", "Cache-Control", "Etag", "Retry-After"} {
		if v := r.Header.Get(h); v != "" {
			got[h] = v
		}
	}
	b, _ := json.MarshalIndent(got, "", "  ")
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(b) {
		t.Fatalf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, b, want)
	}
}

// newKey stores a new API key with scopes and returns it and its id.
func (w *world) newKey(t testing.TB, name string, scopes ...string) (key, id string) {
	t.Helper()
	k, plain, hash, err := clients.NewKey(name, scopes, 0, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.Keys.CreateAPIKey(context.Background(), k, hash); err != nil {
		t.Fatal(err)
	}
	return plain, k.ID
}

// replica is a second API process on the world's database and Redis:
// its own authenticator and quota client, the same keys and allowances.
func (w *world) replica(t *testing.T, quotas map[string]int) *fiber.App {
	t.Helper()
	d := w.deps
	d.Auth = clients.NewAuthenticator(w.st.Keys, w.quotaRedis, w.quotaPrefix, quiet)
	d.Quotas = clients.NewQuotas(w.quotaRedis, w.quotaPrefix, quotas, nil)
	return httpapi.New(d)
}
