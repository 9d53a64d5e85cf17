package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/cache"
	"ces/internal/clients"
	"ces/internal/provider"
	"ces/internal/provider/cbn"
	"ces/internal/provider/ecb"
	"ces/internal/provider/oxr"
	"ces/internal/store"
	"ces/migrations"
	"ces/workflows"
)

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
	rdb, err := cache.NewClient(cache.Conn{URL: redisURL}, cache.WorkerTimeouts)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush the bench redis database: %w", err)
	}
	c := cache.New(rdb, "ces:")

	// The providers, as stand-in servers with recorded payloads: Open
	// Exchange Rates one hour newer at every call, so that each ingestion
	// stores a new set; the ECB's history (a year and more) and the CBN.
	payload, err := os.ReadFile("testdata/oxr/latest-2022-09-01.json")
	if err != nil {
		return err
	}
	var calls atomic.Int64
	fakeOXR := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		ts := strconv.FormatInt(1662001200+3600*n, 10)
		w.Write([]byte(strings.Replace(string(payload), `"timestamp": 1662001200`, `"timestamp": `+ts, 1)))
	}))
	defer fakeOXR.Close()
	fakeECB, ecbDownloads, err := ecbStandIn("testdata/ecb/sdmx-exr-daily-2025-01-01.csv")
	if err != nil {
		return err
	}
	defer fakeECB.Close()
	cbnPayload, err := os.ReadFile("testdata/cbn/GetAllExchangeRates.json")
	if err != nil {
		return err
	}
	fakeCBN := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(cbnPayload) }))
	defer fakeCBN.Close()

	tc, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: quietTemporal{}})
	if err != nil {
		return err
	}
	defer tc.Close()
	queue := fmt.Sprintf("ces-bench-%d", time.Now().UnixNano())
	w := worker.New(tc, queue, worker.Options{})
	hc := provider.NewHTTPClient(0)
	workflows.Register(w, &activities.Activities{
		Providers: map[string]provider.Source{
			oxr.Name: oxr.NewClient(fakeOXR.URL, "bench", hc), ecb.Name: ecb.NewClient(fakeECB.URL, hc), cbn.Name: cbn.NewClient(fakeCBN.URL, hc),
		},
		Rates: st.Rates, Quality: st.Quality, Audit: st.Audit, Cache: c, Now: time.Now,
	})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if _, err := ingest(ctx, tc, c, queue); err != nil {
		return fmt.Errorf("first ingestion: %w", err)
	}
	// The multi-source API's providers: the ECB's last quarter (its year
	// before is the backfill measured at scale) and the CBN's publication.
	if _, err := backfill(ctx, tc, queue, ecbDownloads, "2026-01-01", "2026-03-18"); err != nil {
		return fmt.Errorf("ECB backfill: %w", err)
	}
	if err := ingestOnce(ctx, tc, queue, cbn.Name); err != nil {
		return fmt.Errorf("CBN ingestion: %w", err)
	}

	// The API runs as its own login, as everywhere (it refuses the owner's):
	// the bench database's, so a CES on the same server keeps its password.
	database, err := store.CurrentDatabase(ctx, db)
	if err != nil {
		return err
	}
	apiLogin, _ := store.DatabaseLogins(database)
	if err := store.EnsureLogins(ctx, db, []store.Login{{Name: apiLogin, Role: store.APIRole, Password: "bench-only"}},
		store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}); err != nil {
		return err
	}
	// Conversions need an API key; lookups are served publicly, as make up does.
	benchKey, apiKey, apiKeyHash, err := clients.NewKey("bench", clients.DefaultScopes, 0, "bench", time.Now())
	if err != nil {
		return err
	}
	if err := st.Keys.CreateAPIKey(ctx, benchKey, apiKeyHash); err != nil {
		return err
	}
	// The keyed lookup's key carries a quota of its own, so that every
	// request is charged in Redis (the bench's quotas are otherwise off),
	// too large for the load to reach.
	lookupKey, keyedKey, lookupKeyHash, err := clients.NewKey("bench lookups", clients.DefaultScopes, 1_000_000_000, "bench", time.Now())
	if err != nil {
		return err
	}
	if err := st.Keys.CreateAPIKey(ctx, lookupKey, lookupKeyHash); err != nil {
		return err
	}
	apiURL, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	apiURL.User = url.UserPassword(apiLogin, "bench-only")
	apiDB := apiURL.String()
	apiAddr, multiAddr, floorAddr, rawAddr := freeAddr(), freeAddr(), freeAddr(), freeAddr()
	if os.Getenv("BENCH_PROFILE") != "" {
		pprofAddr, multiPprofAddr = freeAddr(), freeAddr()
	}
	// apiEnv is an API's environment: its address, Redis and providers,
	// the rest shared.
	apiEnv := func(addr, redis string, providers []string, more ...string) []string {
		return append([]string{
			"DATABASE_URL=" + apiDB, "REDIS_URL=" + redis, "TEMPORAL_ADDRESS=" + temporalAddr,
			"FX_PROVIDERS=" + strings.Join(providers, ","), "FX_API_KEY=bench", "HTTP_ADDR=" + addr,
			// The admin console and /metrics listen apart from the API.
			"ADMIN_ADDR=" + freeAddr(),
			"CONVERSION_MARGIN=0.005", "RATE_STALE_AFTER=876000h", "CONVERT_MAX_RATE_AGE=876000h",
			"DB_MAX_CONNS=" + strconv.Itoa(s.poolSize), "LOG_LEVEL=info", "RATES_PUBLIC=true",
			"QUOTA_CONVERT_PER_MINUTE=0", "QUOTA_RATES_PER_MINUTE=0", "QUOTA_ANONYMOUS_PER_MINUTE=0", // the load is one client
		}, more...)
	}
	api, err := startProcess(filepath.Join(binDir, "api"), apiAddr, apiEnv(apiAddr, redisURL, []string{oxr.Name}, "PPROF_ADDR="+pprofAddr))
	if err != nil {
		return err
	}
	defer api.stop()
	sample, err := httpGet("http://" + apiAddr + "/api/v1/rates?from=USD&to=NGN")
	if err != nil {
		return err
	}
	// The multi-source API: the ECB first, then the CBN, so that a pair
	// only the two together can price is a cross across providers.
	multi, err := startProcess(filepath.Join(binDir, "api"), multiAddr, apiEnv(multiAddr, redisURL, []string{ecb.Name, cbn.Name}, "PPROF_ADDR="+multiPprofAddr))
	if err != nil {
		return err
	}
	defer multi.stop()
	// A third API whose Redis accepts connections and never answers: a
	// frozen Redis (SIGSTOP) as the API sees it.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer hole.Close()
	go blackHole(hole)
	frozenAddr := freeAddr()
	frozen, err := startProcess(filepath.Join(binDir, "api"), frozenAddr, apiEnv(frozenAddr, "redis://"+hole.Addr().String()+"/0", []string{oxr.Name}))
	if err != nil {
		return err
	}
	defer frozen.stop()
	var legID int64
	if err := db.NewRaw("SELECT min(id) FROM exchange_rates WHERE provider = ?", oxr.Name).Scan(ctx, &legID); err != nil {
		return err
	}
	floor, err := startProcess(filepath.Join(binDir, "floor"), floorAddr, []string{
		"DATABASE_URL=" + dbURL, "FLOOR_ADDR=" + floorAddr, "FLOOR_RAW_ADDR=" + rawAddr, "FLOOR_BODY_SIZE=" + strconv.Itoa(len(sample)),
		"FLOOR_RATE_ID=" + strconv.FormatInt(legID, 10), "DB_MAX_CONNS=" + strconv.Itoa(s.poolSize), "FLOOR_API_KEY_ID=" + benchKey.ID,
	})
	if err != nil {
		return err
	}
	defer floor.stop()
	if err := waitListening(rawAddr); err != nil {
		return err
	}

	rep := Report{When: time.Now().UTC(), Quick: s.quick, Machine: machine(), Concurrency: s.concurrency,
		ClosedFor: s.closedFor.String(), OpenFor: s.openFor.String(), ScaleRows: s.scaleRows, Rounds: s.rounds, Pinning: pinning(), Only: os.Getenv("BENCH_ONLY")}
	env := &bench{s: s, tc: tc, c: c, queue: queue, apiKey: apiKey, keyedKey: keyedKey, api: api, floor: floor, multi: multi, frozen: frozen,
		apiURL: "http://" + apiAddr, multiURL: "http://" + multiAddr, floorURL: "http://" + floorAddr, rawURL: "http://" + rawAddr,
		frozenURL: "http://" + frozenAddr, ecbDownloads: ecbDownloads}
	var small, big []Result
	if s.stage("small") {
		if small, err = env.scenarios(ctx, "small"); err != nil {
			return err
		}
		rep.Results = append(rep.Results, small...)
	} else if s.only["cpu"] {
		// The server-CPU rows alone, on the small database.
		cpu, err := env.serverCPU("small")
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, cpu...)
	}
	// Tracing's cost, on the small database, before the history is loaded.
	if s.stage("tracing") {
		rows, err := env.tracingRows(binDir, func(addr string, more ...string) []string {
			return apiEnv(addr, redisURL, []string{oxr.Name}, more...)
		})
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, rows...)
	}
	if s.stage("scaled") || s.stage("world") {
		say("loading %d rate rows and %d audit rows of history", s.scaleRows, s.scaleRows)
		if err := loadHistory(ctx, db, s.scaleRows, legID); err != nil {
			return err
		}
	}
	if s.stage("scaled") {
		if big, err = env.scenarios(ctx, "scaled"); err != nil {
			return err
		}
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
			continue // a floor, or a one-off run
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
	// Memory: the API's RSS after every scenario it served.
	var peak float64
	for _, r := range rep.Results {
		peak = max(peak, r.APIRSSMB)
	}
	okRSS := peak <= 100
	rep.Results = append(rep.Results, Result{Scenario: "API RSS, highest after any scenario", Database: "both", APIRSSMB: peak,
		Target: "≤ 100 MB throughout", Met: &okRSS})

	// Every publisher loaded, measured against the floors of the scaled run.
	var httpFloor, rawFloor Result
	for _, r := range big {
		switch r.Scenario {
		case "Fiber floor":
			httpFloor = r
		case "raw floor":
			rawFloor = r
		}
	}
	if s.stage("world") {
		if httpFloor.MaxRPS == 0 {
			// The world stage alone: its own measure of the floors.
			if httpFloor, rawFloor, err = env.floors(ctx); err != nil {
				return err
			}
		}
		worldRows, err := env.world(ctx, adminURL, redisURL, temporalAddr, binDir, httpFloor, rawFloor)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, worldRows...)
	}
	// The offline demo last, when no API of the bench is left running.
	api.stop()
	multi.stop()
	frozen.stop()
	floor.stop()
	if !s.stage("demo") {
		return write(rep)
	}
	say("[demo] OFFLINE=1 make up, until it is running")
	demo, err := offlineDemo(ctx, adminURL, redisURL)
	if err != nil {
		// The other rows stand without it: the row says the demo failed.
		say("%v", err)
		failed := false
		demo.Target, demo.Met = "≤ 180 s; failed: "+strings.SplitN(err.Error(), "\n", 2)[0], &failed
	}
	rep.Results = append(rep.Results, demo)
	return write(rep)
}

// quietTemporal drops the SDK's logging from the bench output.
type quietTemporal struct{}

func (quietTemporal) Debug(string, ...any) {}
func (quietTemporal) Info(string, ...any)  {}
func (quietTemporal) Warn(string, ...any)  {}
func (quietTemporal) Error(string, ...any) {}
