package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/catalog"
	"ces/internal/config"
	"ces/internal/flow"
	"ces/internal/replay"
	"ces/internal/store"
	"ces/migrations"
	"ces/workflows"
)

// cpuRate is the offered rate of the server-CPU runs: fixed, well under
// any lookup's maximum here (a sixth of it or less), so that CPU time per
// request compares the work of one answer rather than how a saturated
// process batches, and high enough that a run's CPU time is a hundred
// clock ticks or more.
const cpuRate = 2000

// world is the stage with every publisher loaded: the recordings of
// testdata/ replayed in-process, every keyless adapter against them, a
// database, a Redis database and an API of its own.
type world struct {
	api     *process
	url     string
	ingest  Result
	cleanup []func()
}

// close undoes startWorld in reverse order: the API stops before its
// database is dropped.
func (w *world) close() {
	for i := len(w.cleanup) - 1; i >= 0; i-- {
		w.cleanup[i]()
	}
}

// worldRedisDB is the Redis database of the world stage: apart from the
// bench's (12), so that the replayed ECB and CBN do not replace the
// stand-ins' publications the multi-source API serves.
const worldRedisDB = 14

// startWorld ingests every publisher's latest publication from the
// recordings into a database of its own, through IngestRates on a worker
// of its own, and starts an API serving them (FX_PROVIDERS=keyless).
func startWorld(ctx context.Context, s settings, adminURL, redisURL, temporalAddr, binDir string, tc client.Client) (*world, error) {
	w := &world{}
	fail := func(err error) (*world, error) { w.close(); return nil, err }

	h, err := replay.Load("testdata")
	if err != nil {
		return nil, fmt.Errorf("world: load the recordings: %w", err)
	}
	srv := httptest.NewServer(h)
	w.cleanup = append(w.cleanup, srv.Close)

	dbURL, dropDB, err := createDatabase(ctx, adminURL)
	if err != nil {
		return fail(fmt.Errorf("world: %w", err))
	}
	w.cleanup = append(w.cleanup, dropDB)
	db, err := store.Open(ctx, dbURL, s.poolSize)
	if err != nil {
		return fail(err)
	}
	w.cleanup = append(w.cleanup, func() { db.Close() })
	if _, err := migrations.Run(ctx, db, time.Minute); err != nil {
		return fail(fmt.Errorf("world: migrate: %w", err))
	}
	st := store.New(db)
	ru, err := url.Parse(redisURL)
	if err != nil {
		return fail(err)
	}
	ru.Path = "/" + strconv.Itoa(worldRedisDB)
	worldRedis := ru.String()
	rdb, err := cache.NewClient(cache.Conn{URL: worldRedis}, cache.WorkerTimeouts)
	if err != nil {
		return fail(err)
	}
	w.cleanup = append(w.cleanup, func() { rdb.FlushDB(context.Background()); rdb.Close() })
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fail(fmt.Errorf("world: flush redis database %d: %w", worldRedisDB, err))
	}

	// The adapters as the worker builds them, through the same variables
	// OFFLINE=1 make up sets.
	environ := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": worldRedis, "FX_PROVIDERS": config.Keyless}
	for _, p := range catalog.All() {
		environ["FX_"+strings.ToUpper(p.Key)+"_BASE_URL"] = srv.URL + "/" + p.Key
	}
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		return fail(fmt.Errorf("world: configuration: %w", err))
	}
	sources := activities.NewSources(cfg)
	queue := fmt.Sprintf("ces-bench-world-%d", time.Now().UnixNano())
	wk := worker.New(tc, queue, worker.Options{})
	workflows.Register(wk, &activities.Activities{Providers: sources,
		Rates: st.Rates, Quality: st.Quality, Audit: st.Audit, Cache: cache.New(rdb, "ces:"), Now: time.Now})
	if err := wk.Start(); err != nil {
		return fail(err)
	}
	w.cleanup = append(w.cleanup, wk.Stop)

	// Every publisher's latest, all started at once as the schedules of
	// make up trigger them, until the last has finished (its rates are in
	// Redis then: caching is IngestRates' last step).
	say("[world] ingesting the latest publication of %d publishers", len(cfg.FXProviders))
	start := time.Now()
	runs := make(map[string]client.WorkflowRun, len(cfg.FXProviders))
	for _, key := range cfg.FXProviders {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue, ID: fmt.Sprintf("ingest-rates/bench-world-%s-%d", key, start.UnixNano())},
			flow.IngestRatesName, flow.IngestInput{Provider: key})
		if err != nil {
			return fail(fmt.Errorf("world: start the ingestion of %s: %w", key, err))
		}
		runs[key] = run
	}
	var failed []string
	for _, key := range cfg.FXProviders {
		wait, cancel := context.WithTimeout(ctx, 3*time.Minute)
		err := runs[key].Get(wait, nil)
		cancel()
		if err != nil {
			say("[world] ingestion of %s: %v", key, err)
			failed = append(failed, key)
		}
	}
	took := time.Since(start)
	n := len(cfg.FXProviders)
	ing := Result{Scenario: fmt.Sprintf("world: ingest every publisher's latest (%d publishers, replayed)", n), Database: "world",
		TookS: took.Seconds(), Errors: float64(len(failed)) / float64(n)}
	okIng := took <= 60*time.Second && len(failed) == 0
	ing.Target, ing.Met = "≤ 60 s, every publisher", &okIng
	if len(failed) > 0 {
		ing.Target += "; failed: " + strings.Join(failed, ", ")
	}
	w.ingest = ing

	// The API, as its own login, serving every keyless publisher with the
	// recordings taken as current (as the offline demo does).
	database, err := store.CurrentDatabase(ctx, db)
	if err != nil {
		return fail(err)
	}
	apiLogin, _ := store.DatabaseLogins(database)
	if err := store.EnsureLogins(ctx, db, []store.Login{{Name: apiLogin, Role: store.APIRole, Password: "bench-only"}},
		store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}); err != nil {
		return fail(err)
	}
	apiURL, err := url.Parse(dbURL)
	if err != nil {
		return fail(err)
	}
	apiURL.User = url.UserPassword(apiLogin, "bench-only")
	addr := freeAddr()
	api, err := startProcess(filepath.Join(binDir, "api"), addr, []string{
		"DATABASE_URL=" + apiURL.String(), "REDIS_URL=" + worldRedis, "TEMPORAL_ADDRESS=" + temporalAddr,
		"FX_PROVIDERS=" + config.Keyless, "HTTP_ADDR=" + addr, "ADMIN_ADDR=" + freeAddr(),
		"RATE_STALE_AFTER=100000h", "CONVERT_MAX_RATE_AGE=100000h",
		"DB_MAX_CONNS=" + strconv.Itoa(s.poolSize), "LOG_LEVEL=info", "RATES_PUBLIC=true",
		"QUOTA_CONVERT_PER_MINUTE=0", "QUOTA_RATES_PER_MINUTE=0", "QUOTA_ANONYMOUS_PER_MINUTE=0",
	})
	if err != nil {
		return fail(fmt.Errorf("world: %w", err))
	}
	w.cleanup = append(w.cleanup, api.stop)
	w.api, w.url = api, "http://"+addr
	return w, nil
}

// world runs the world stage: every publisher's ingestion, the world
// API's lookups against the floors of the run, its CPU per request
// against the multi-source API's at the same rate, and its RSS.
func (b *bench) world(ctx context.Context, adminURL, redisURL, temporalAddr, binDir string, httpFloor, rawFloor Result) ([]Result, error) {
	s := b.s
	get := func(url string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	}
	w, err := startWorld(ctx, s, adminURL, redisURL, temporalAddr, binDir, b.tc)
	if err != nil {
		return nil, err
	}
	defer w.close()
	out := []Result{w.ingest}

	offered := httpFloor.MaxRPS / 2
	lookups := []struct {
		name, url string
		// provider and rule are what the answer must say: the default
		// policy's choice, from fresh rows.
		provider, rule string
	}{
		{"world: direct, by its issuer (USD→KES, CBK)", w.url + "/api/v1/rates?from=USD&to=KES", "cbk", "direct"},
		{"world: cross across publishers (KES→EGP, CBK + CBE)", w.url + "/api/v1/rates?from=KES&to=EGP", "cbk+cbe", "cross_provider"},
		{"world: pegged (USD→XOF, ECB + peg)", w.url + "/api/v1/rates?from=USD&to=XOF", "ecb+peg", "peg"},
	}
	for _, l := range lookups {
		// Each answer is checked once before it is measured.
		body, err := httpGet(l.url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		var a struct {
			Provider string `json:"provider"`
			Rule     string `json:"rule"`
			Stale    bool   `json:"stale"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			return nil, fmt.Errorf("%s: decode the answer: %w", l.name, err)
		}
		if a.Provider != l.provider || a.Rule != l.rule || a.Stale {
			return nil, fmt.Errorf("%s: want provider %s, rule %s, not stale: %s", l.name, l.provider, l.rule, body)
		}
		say("[world] %s", l.name)
		r := measure(s, l.name, get(l.url), offered)
		out = append(out, judge(r, w.api, 0.8, "world", httpFloor, rawFloor))
	}

	// Server CPU: the same kind of lookup on the two-publisher API and on
	// this one, alternately, s.rounds times each; the lowest CPU per
	// request of each counts (a neighbour's load can only add to it).
	pairs := []struct {
		multiName, multiURL, worldName, worldURL string
	}{
		{"server CPU: two publishers, direct (EUR→GBP, ECB)", b.multiURL + "/api/v1/rates?from=EUR&to=GBP",
			"server CPU: every publisher, direct (USD→KES, CBK)", lookups[0].url},
		{"server CPU: two publishers, cross (PLN→NGN, ECB + CBN)", b.multiURL + "/api/v1/rates?from=PLN&to=NGN",
			"server CPU: every publisher, cross (KES→EGP, CBK + CBE)", lookups[1].url},
	}
	for _, p := range pairs {
		var ref, r Result
		for i := 0; i < s.rounds; i++ {
			say("[world] %s, then %s, at %d req/s", p.multiName, p.worldName, cpuRate)
			m, err := cpuPerRequest(s, b.multi, p.multiName, get(p.multiURL), cpuRate, 0)
			if err != nil {
				return nil, err
			}
			wr, err := cpuPerRequest(s, w.api, p.worldName, get(p.worldURL), cpuRate, 0)
			if err != nil {
				return nil, err
			}
			if i == 0 || m.CPUUsPerReq < ref.CPUUsPerReq {
				ref = m
			}
			if i == 0 || wr.CPUUsPerReq < r.CPUUsPerReq {
				r = wr
			}
		}
		ref.Database, ref.Target = "scaled", "reported: the two-publisher reference"
		r.Database, r.Floor = "world", "two publishers"
		if ref.CPUUsPerReq > 0 {
			r.Ratio = r.CPUUsPerReq / ref.CPUUsPerReq
		}
		ok := r.Ratio > 0 && r.Ratio <= 1.2 && r.Errors == 0 && ref.Errors == 0
		r.Target, r.Met = fmt.Sprintf("≤ 1.2× two publishers' CPU per request (%.0f µs, the row above), same rate", ref.CPUUsPerReq), &ok
		out = append(out, ref, r)
	}

	rss := w.api.rssMB()
	okRSS := rss > 0 && rss < 100
	out = append(out, Result{Scenario: "world: API RSS after its runs", Database: "world", APIRSSMB: rss, APIHeapMB: w.api.heapMB(),
		Target: "< 100 MB", Met: &okRSS})
	return out, nil
}
