// Command bench measures CES against the floors of its own design, in one
// run on one machine: a minimal Fiber server answering a constant body the
// size of a rates response (the HTTP floor) and one INSERT of an
// audit-shaped row per request through the same driver and pool size (the
// insert floor). Every figure is reported as a ratio to its floor, so the
// machine's speed and noise cancel out. Run it with `make bench`
// (BENCH_QUICK=1 for a short run).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/clients"
	"ces/internal/provider"
	"ces/internal/provider/oxr"
	"ces/internal/store"
	"ces/migrations"
	"ces/workflows"
)

// settings of one run.
type settings struct {
	quick       bool
	closedFor   time.Duration // closed-loop max-throughput run
	openFor     time.Duration // open-loop latency run
	concurrency int
	scaleRows   int // rate rows and audit rows loaded for the scale runs
	poolSize    int
	rounds      int // closed-loop runs per measurement; the best counts
}

func load() settings {
	s := settings{closedFor: 5 * time.Second, openFor: 8 * time.Second, concurrency: 32, scaleRows: 1_000_000, poolSize: 16, rounds: 3}
	if os.Getenv("BENCH_QUICK") != "" {
		// Short runs and a twentieth of the history, to finish within a minute.
		s.quick, s.closedFor, s.openFor, s.scaleRows, s.rounds = true, 1200*time.Millisecond, 1200*time.Millisecond, 50_000, 1
	}
	return s
}

// Result is one row of the table.
type Result struct {
	Scenario   string  `json:"scenario"`
	Database   string  `json:"database"`
	MaxRPS     float64 `json:"max_rps,omitempty"`
	Floor      string  `json:"floor,omitempty"`
	FloorRPS   float64 `json:"floor_rps,omitempty"`
	Ratio      float64 `json:"ratio,omitempty"`
	RateRPS    float64 `json:"latency_at_rps,omitempty"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	P999Ms     float64 `json:"p999_ms"`
	Errors     float64 `json:"error_ratio"`
	APIRSSMB   float64 `json:"api_rss_mb,omitempty"`
	Target     string  `json:"target"`
	Met        *bool   `json:"met,omitempty"`
	ScaleDelta float64 `json:"scale_delta,omitempty"`
}

// Report is the JSON file bench writes.
type Report struct {
	When        time.Time `json:"when"`
	Quick       bool      `json:"quick"`
	Machine     string    `json:"machine"`
	Concurrency int       `json:"concurrency"`
	ClosedFor   string    `json:"closed_loop_duration"`
	OpenFor     string    `json:"open_loop_duration"`
	ScaleRows   int       `json:"scale_rows"`
	Rounds      int       `json:"closed_loop_rounds"`
	Results     []Result  `json:"results"`
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(log)
	if err := run(load()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func need(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "bench: %s is not set (run it with make bench)\n", name)
		os.Exit(2)
	}
	return v
}

func say(format string, args ...any) { fmt.Fprintf(os.Stderr, "[bench] "+format+"\n", args...) }

func run(s settings) error {
	ctx := context.Background()
	adminURL, redisURL, temporalAddr, binDir := need("CES_BENCH_DATABASE_URL"), need("CES_BENCH_REDIS_URL"), need("CES_BENCH_TEMPORAL_ADDRESS"), need("CES_BENCH_BIN")

	// A database of its own, dropped at the end.
	dbURL, dropDB, err := createDatabase(ctx, adminURL)
	if err != nil {
		return err
	}
	defer dropDB()
	db, err := store.Open(ctx, dbURL, s.poolSize)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrations.Run(ctx, db, time.Minute); err != nil {
		return err
	}
	st := store.New(db)
	rdb, err := cache.NewClient(redisURL, cache.WorkerTimeouts)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush the bench redis database: %w", err)
	}
	c := cache.New(rdb, "ces:")

	// The provider: the recorded Open Exchange Rates payload, one hour
	// newer at every call so that each ingestion stores a new set.
	payload, err := os.ReadFile("testdata/oxr/latest-2022-09-01.json")
	if err != nil {
		return err
	}
	var calls atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		ts := strconv.FormatInt(1662001200+3600*n, 10)
		w.Write([]byte(strings.Replace(string(payload), `"timestamp": 1662001200`, `"timestamp": `+ts, 1)))
	}))
	defer fake.Close()

	tc, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: quietTemporal{}})
	if err != nil {
		return err
	}
	defer tc.Close()
	queue := fmt.Sprintf("ces-bench-%d", time.Now().UnixNano())
	w := worker.New(tc, queue, worker.Options{})
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{oxr.Name: oxr.NewClient(fake.URL, "bench", provider.NewHTTPClient(0))},
		Store:     st, Cache: c, Now: time.Now,
	})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if _, err := ingest(ctx, tc, c, queue); err != nil {
		return fmt.Errorf("first ingestion: %w", err)
	}

	// The API runs as its own login, as everywhere (it refuses the owner's).
	if err := store.EnsureLogins(ctx, db, []store.Login{{Name: store.APILogin, Role: store.APIRole, Password: "bench-only"}},
		store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}); err != nil {
		return err
	}
	// Conversions need an API key; lookups are served publicly, as make up does.
	benchKey, apiKey, apiKeyHash, err := clients.NewKey("bench", clients.DefaultScopes, 0, "bench", time.Now())
	if err != nil {
		return err
	}
	if err := st.CreateAPIKey(ctx, benchKey, apiKeyHash); err != nil {
		return err
	}
	apiURL, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	apiURL.User = url.UserPassword(store.APILogin, "bench-only")
	apiDB := apiURL.String()
	apiAddr, floorAddr := freeAddr(), freeAddr()
	if os.Getenv("BENCH_PROFILE") != "" {
		pprofAddr = freeAddr()
	}
	// apiEnv is an API's environment: its own address and Redis, the rest shared.
	apiEnv := func(addr, redis string, more ...string) []string {
		return append([]string{
			"DATABASE_URL=" + apiDB, "REDIS_URL=" + redis, "TEMPORAL_ADDRESS=" + temporalAddr,
			"FX_PROVIDER=openexchangerates", "FX_API_KEY=bench", "HTTP_ADDR=" + addr,
			"CONVERSION_MARGIN=0.005", "RATE_STALE_AFTER=876000h", "CONVERT_MAX_RATE_AGE=876000h",
			"DB_MAX_CONNS=" + strconv.Itoa(s.poolSize), "LOG_LEVEL=info", "RATES_PUBLIC=true",
			"QUOTA_CONVERT_PER_MINUTE=0", "QUOTA_RATES_PER_MINUTE=0", // the load is one client
		}, more...)
	}
	api, err := startProcess(filepath.Join(binDir, "api"), apiAddr, apiEnv(apiAddr, redisURL, "PPROF_ADDR="+pprofAddr))
	if err != nil {
		return err
	}
	defer api.stop()
	sample, err := httpGet("http://" + apiAddr + "/api/v1/rates?from=USD&to=NGN")
	if err != nil {
		return err
	}
	// A second API whose Redis accepts connections and never answers: a
	// frozen Redis (SIGSTOP) as the API sees it.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer hole.Close()
	go blackHole(hole)
	frozenAddr := freeAddr()
	frozen, err := startProcess(filepath.Join(binDir, "api"), frozenAddr, apiEnv(frozenAddr, "redis://"+hole.Addr().String()+"/0"))
	if err != nil {
		return err
	}
	defer frozen.stop()
	var legID int64
	if err := db.NewRaw("SELECT min(id) FROM exchange_rates").Scan(ctx, &legID); err != nil {
		return err
	}
	floor, err := startProcess(filepath.Join(binDir, "floor"), floorAddr, []string{
		"DATABASE_URL=" + dbURL, "FLOOR_ADDR=" + floorAddr, "FLOOR_BODY_SIZE=" + strconv.Itoa(len(sample)),
		"FLOOR_RATE_ID=" + strconv.FormatInt(legID, 10), "DB_MAX_CONNS=" + strconv.Itoa(s.poolSize),
	})
	if err != nil {
		return err
	}
	defer floor.stop()

	rep := Report{When: time.Now().UTC(), Quick: s.quick, Machine: machine(), Concurrency: s.concurrency,
		ClosedFor: s.closedFor.String(), OpenFor: s.openFor.String(), ScaleRows: s.scaleRows, Rounds: s.rounds}
	api0, floor0, frozen0 := "http://"+apiAddr, "http://"+floorAddr, "http://"+frozenAddr
	small, err := scenarios(ctx, s, tc, c, queue, api, api0, apiKey, floor0, frozen0, "small")
	if err != nil {
		return err
	}
	rep.Results = append(rep.Results, small...)

	say("loading %d rate rows and %d audit rows of history", s.scaleRows, s.scaleRows)
	if err := loadHistory(ctx, db, s.scaleRows, legID); err != nil {
		return err
	}
	big, err := scenarios(ctx, s, tc, c, queue, api, api0, apiKey, floor0, frozen0, "scaled")
	if err != nil {
		return err
	}
	for i := range big {
		for _, r := range small {
			if r.Scenario == big[i].Scenario && r.MaxRPS > 0 && big[i].MaxRPS > 0 {
				big[i].ScaleDelta = big[i].MaxRPS/r.MaxRPS - 1
			}
			if r.Scenario == big[i].Scenario && big[i].Scenario == "ingestion (169 codes)" && r.P50Ms > 0 {
				big[i].ScaleDelta = big[i].P50Ms/r.P50Ms - 1
			}
		}
		if big[i].Floor == "" && !strings.HasPrefix(big[i].Scenario, "ingestion") {
			continue // a floor
		}
		// Throughput may not drop, and ingestion time may not grow, by more than 15%.
		within := big[i].ScaleDelta > -0.15
		if strings.HasPrefix(big[i].Scenario, "ingestion") {
			within = big[i].ScaleDelta < 0.15
		}
		ok := within && (big[i].Met == nil || *big[i].Met)
		big[i].Target += "; within 15% of small"
		big[i].Met = &ok
	}
	rep.Results = append(rep.Results, big...)
	return write(rep)
}

// pprofAddr is where the API serves pprof when BENCH_PROFILE is set.
var pprofAddr string

// profile fetches a CPU profile of the API while load runs, writes it to
// bench/results/<name>.pprof and prints the top of it.
func profile(name string, seconds int) chan struct{} {
	done := make(chan struct{})
	if pprofAddr == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		b, err := httpGet(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, seconds))
		if err != nil {
			say("profile %s: %v", name, err)
			return
		}
		path := filepath.Join("bench", "results", name+".pprof")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			say("profile %s: %v", name, err)
			return
		}
		out, _ := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", path).CombinedOutput()
		say("CPU profile of the API under %s (%s):\n%s", name, path, out)
	}()
	return done
}

// scenarios measures the floors and every scenario once, on whatever the
// database holds now.
func scenarios(ctx context.Context, s settings, tc client.Client, c *cache.Cache, queue string, api *process, apiURL, apiKey, floorURL, frozenURL, dbLabel string) ([]Result, error) {
	var out []Result
	get := func(url string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	}
	post := func(url, body string) vegeta.Targeter {
		h := http.Header{"Content-Type": []string{"application/json"}, "Authorization": []string{"Bearer " + apiKey}}
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Body: []byte(body), Header: h})
	}

	say("[%s] HTTP floor", dbLabel)
	httpFloor := measure(s, "HTTP floor", get(floorURL+"/rate"), 0)
	httpFloor.Database, httpFloor.Target = dbLabel, "the floor"
	out = append(out, httpFloor)

	lookups := []struct{ name, path string }{
		{"latest direct pair", "/api/v1/rates?from=USD&to=NGN"},
		{"latest cross rate", "/api/v1/rates?from=EUR&to=GBP"},
		{"historical at=", "/api/v1/rates?from=USD&to=NGN&at=2022-09-01T12:00:00Z"},
	}
	for i, l := range lookups {
		say("[%s] %s", dbLabel, l.name)
		var profiled chan struct{}
		if i == 0 && dbLabel == "small" {
			profiled = profile("lookup", int(s.closedFor.Seconds()))
		}
		r := measure(s, l.name, get(apiURL+l.path), httpFloor.MaxRPS/2)
		if profiled != nil {
			<-profiled
		}
		r.Database, r.Floor, r.FloorRPS = dbLabel, "HTTP", httpFloor.MaxRPS
		r.Ratio = r.MaxRPS / httpFloor.MaxRPS
		if i == 0 {
			r.APIRSSMB = api.rssMB()
			ok := r.Ratio >= 0.8 && r.P99Ms <= 1 && r.APIRSSMB <= 100
			r.Target, r.Met = "≥0.8× floor, p99 ≤ 1 ms, RSS ≤ 100 MB", &ok
		} else {
			r.Target = "reported"
		}
		out = append(out, r)
	}

	// With Redis frozen, lookups read PostgreSQL once the first Redis read
	// has timed out; only a background probe waits on Redis after that.
	say("[%s] latest direct pair, Redis frozen", dbLabel)
	httpGet(frozenURL + "/api/v1/rates?from=USD&to=NGN") // the one read that waits
	fr := measure(s, "latest direct pair, Redis frozen", get(frozenURL+"/api/v1/rates?from=USD&to=NGN"), 0)
	fr.Database, fr.Floor, fr.FloorRPS = dbLabel, "HTTP", httpFloor.MaxRPS
	fr.Ratio = fr.MaxRPS / httpFloor.MaxRPS
	okFrozen := fr.P99Ms <= 50 && fr.Errors == 0
	fr.Target, fr.Met = "p99 ≤ 50 ms at half its max req/s, no errors", &okFrozen
	out = append(out, fr)

	say("[%s] insert floor", dbLabel)
	insFloor := measure(s, "insert floor", post(floorURL+"/insert", "{}"), 0)
	insFloor.Database, insFloor.Target = dbLabel, "the floor"
	out = append(out, insFloor)

	say("[%s] POST /convert", dbLabel)
	var profiled chan struct{}
	if dbLabel == "small" {
		profiled = profile("convert", int(s.closedFor.Seconds()))
	}
	conv := measure(s, "POST /convert", post(apiURL+"/api/v1/convert", `{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`), insFloor.MaxRPS/2)
	if profiled != nil {
		<-profiled
	}
	conv.Database, conv.Floor, conv.FloorRPS = dbLabel, "insert", insFloor.MaxRPS
	conv.Ratio = conv.MaxRPS / insFloor.MaxRPS
	ok := conv.Ratio >= 0.6 && conv.P99Ms <= 10
	conv.Target, conv.Met = "≥0.6× insert floor, p99 ≤ 10 ms", &ok
	out = append(out, conv)

	say("[%s] ingestion, median of 5", dbLabel)
	var took []time.Duration
	for i := 0; i < 5; i++ {
		d, err := ingest(ctx, tc, c, queue)
		if err != nil {
			return nil, err
		}
		took = append(took, d)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	ing := Result{Scenario: "ingestion (169 codes)", Database: dbLabel, P50Ms: ms(took[2]), P99Ms: ms(took[4]), P999Ms: ms(took[4])}
	okIng := took[2] <= time.Second
	ing.Target, ing.Met = "trigger → Redis updated ≤ 1 s median", &okIng
	out = append(out, ing)
	return out, nil
}

// maxThroughput is the best of s.rounds closed-loop runs with
// s.concurrency workers. On a shared machine a run can only be slowed by
// its neighbours, never sped up, so the best run is the closest to the truth.
func maxThroughput(s settings, name string, t vegeta.Targeter) (rps, errRatio float64) {
	for i := 0; i < s.rounds; i++ {
		closed := vegeta.NewAttacker(vegeta.Workers(uint64(s.concurrency)), vegeta.MaxWorkers(uint64(s.concurrency)),
			vegeta.Connections(s.concurrency), vegeta.MaxConnections(s.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
		var m vegeta.Metrics
		for res := range closed.Attack(t, vegeta.Rate{Freq: 0}, s.closedFor, name) {
			m.Add(res)
		}
		m.Close()
		rps = max(rps, m.Throughput)
		errRatio = max(errRatio, 1-m.Success)
	}
	return rps, errRatio
}

// measure finds the closed-loop maximum throughput, then the latency of
// an open-loop run at rate (when rate > 0, else half the maximum), so
// queueing delay is counted rather than hidden (no coordinated omission).
func measure(s settings, name string, t vegeta.Targeter, rate float64) Result {
	rps, errRatio := maxThroughput(s, name, t)
	r := Result{Scenario: name, MaxRPS: rps, Errors: errRatio}
	if rate <= 0 {
		rate = rps / 2
	}
	// Open loop: the pacer sends on schedule whatever the answers do; extra
	// workers (up to 4× the connections) absorb slow answers, and the
	// connection cap keeps the load generator from churning TCP connections.
	open := vegeta.NewAttacker(vegeta.Workers(uint64(s.concurrency)), vegeta.MaxWorkers(uint64(4*s.concurrency)),
		vegeta.Connections(s.concurrency), vegeta.MaxConnections(s.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var lm vegeta.Metrics
	for res := range open.Attack(t, vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}, s.openFor, name) {
		lm.Add(res)
	}
	lm.Close()
	r.RateRPS = float64(int(rate))
	r.P50Ms, r.P99Ms, r.P999Ms = ms(lm.Latencies.P50), ms(lm.Latencies.P99), ms(lm.Latencies.Quantile(0.999))
	if e := 1 - lm.Success; e > r.Errors {
		r.Errors = e
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ngnAsOf is the as_of of the cached USD→NGN rate (zero when absent).
func ngnAsOf(ctx context.Context, c *cache.Cache) time.Time {
	all, err := c.Latest(ctx, []string{oxr.Name})
	if err != nil {
		return time.Time{}
	}
	for _, r := range all[oxr.Name] {
		if r.Base == "USD" && r.Quote == "NGN" {
			return r.AsOf
		}
	}
	return time.Time{}
}

// ingest starts IngestRates and returns how long until Redis holds the new
// NGN rate, the moment readers can see it.
func ingest(ctx context.Context, tc client.Client, c *cache.Cache, queue string) (time.Duration, error) {
	before := ngnAsOf(ctx, c)
	start := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: fmt.Sprintf("ingest-rates/bench-%d", start.UnixNano())},
		workflows.IngestRatesName, workflows.IngestInput{Provider: oxr.Name})
	if err != nil {
		return 0, err
	}
	for {
		if now := ngnAsOf(ctx, c); now.After(before) {
			d := time.Since(start)
			return d, run.Get(ctx, nil)
		}
		if time.Since(start) > 30*time.Second {
			return 0, fmt.Errorf("ingestion did not reach Redis within 30s: %v", run.Get(ctx, nil))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// loadHistory adds n rate rows older than anything stored (163 quotes per
// publication, one publication an hour back in time) and n audit rows, in
// set-based INSERTs, then refreshes the planner's statistics.
func loadHistory(ctx context.Context, db *bun.DB, n int, legID int64) error {
	start := time.Now()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
		SELECT r.provider, r.base, r.quote, r.rate * (1 + (g % 97) / 10000.0), r.as_of - make_interval(hours => g), r.fetched_at,
		       'bench-history', 'bench', r.payload_sha256
		FROM generate_series(1, ceil(?::numeric / 163)::int) g
		CROSS JOIN (SELECT DISTINCT ON (quote) * FROM exchange_rates ORDER BY quote, as_of) r
		LIMIT ?`, n, n); err != nil {
		return fmt.Errorf("load rate history: %w", err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO conversion_audits (id, created_at, amount, from_currency, to_currency, mid_rate, margin, applied_rate,
			converted_amount, rounding, provider, as_of, leg1_rate_id, request_id, request_sha256, client_address, hash)
		SELECT gen_random_uuid(), now() - make_interval(secs => g), g % 100000 + 1, 'USD', 'NGN', 418.065024, 0.005, 415.97469888,
			(g % 100000 + 1) * 415.97469888, 'half_even', 'openexchangerates', '2022-09-01T03:00:00Z', ?, 'bench', repeat('a', 64),
			'127.0.0.1', repeat('b', 64)
		FROM generate_series(1, ?) g`, legID, n); err != nil {
		return fmt.Errorf("load audit history: %w", err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE exchange_rates; ANALYZE conversion_audits"); err != nil {
		return err
	}
	say("loaded in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	adb, err := store.Open(ctx, adminURL, 2)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("ces_bench_%d", time.Now().UnixNano())
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		return "", nil, err
	}
	drop := func() {
		adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		adb.Close()
	}
	i := strings.LastIndex(adminURL, "/")
	rest := ""
	if q := strings.Index(adminURL[i:], "?"); q >= 0 {
		rest = adminURL[i+q:]
	}
	return adminURL[:i+1] + name + rest, drop, nil
}

// process is a child process the bench started.
type process struct {
	cmd *exec.Cmd
}

func startProcess(bin, addr string, env []string) (*process, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd}
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not listen on %s", bin, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
}

// rssMB reads the process's resident set size from /proc.
func (p *process) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// blackHole accepts connections on l and never answers, until l closes.
func blackHole(l net.Listener) {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		go io.Copy(io.Discard, c)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func write(rep Report) error {
	name := "latest"
	if rep.Quick {
		name = "quick"
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	md := table(rep)
	fmt.Println(md)
	if err := os.WriteFile(filepath.Join("bench", "results", name+".json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join("bench", "results", name+".md"), []byte(md), 0o644)
}

func table(rep Report) string {
	var b strings.Builder
	mode := "full"
	if rep.Quick {
		mode = "quick (BENCH_QUICK=1: short runs, figures are rougher)"
	}
	fmt.Fprintf(&b, "CES benchmark, %s, %s. Machine: %s. Load: vegeta in the bench process, %d connections; max throughput is the best of %d closed-loop runs of %s; latency from an open-loop run of %s at 50%% of the floor's max rate. Scaled: +%d rate rows, +%d audit rows.\n\n",
		rep.When.Format(time.RFC3339), mode, rep.Machine, rep.Concurrency, rep.Rounds, rep.ClosedFor, rep.OpenFor, rep.ScaleRows, rep.ScaleRows)
	b.WriteString("| scenario | database | max req/s | floor req/s | ratio | latency at req/s | p50 ms | p99 ms | p99.9 ms | errors | API RSS MB | vs small | target | met |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rep.Results {
		f := func(v float64, format string) string {
			if v == 0 {
				return ""
			}
			return fmt.Sprintf(format, v)
		}
		met := ""
		if r.Met != nil {
			met = "no"
			if *r.Met {
				met = "yes"
			}
		}
		delta := ""
		if r.ScaleDelta != 0 {
			delta = fmt.Sprintf("%+.0f%%", r.ScaleDelta*100)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.3f | %.3f | %.3f | %.2f%% | %s | %s | %s | %s |\n",
			r.Scenario, r.Database, f(r.MaxRPS, "%.0f"), f(r.FloorRPS, "%.0f"), f(r.Ratio, "%.2f"), f(r.RateRPS, "%.0f"),
			r.P50Ms, r.P99Ms, r.P999Ms, r.Errors*100, f(r.APIRSSMB, "%.1f"), delta, r.Target, met)
	}
	return b.String()
}

// quietTemporal drops the SDK's logging from the bench output.
type quietTemporal struct{}

func (quietTemporal) Debug(string, ...any) {}
func (quietTemporal) Info(string, ...any)  {}
func (quietTemporal) Warn(string, ...any)  {}
func (quietTemporal) Error(string, ...any) {}
