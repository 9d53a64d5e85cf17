// Command api serves the CES HTTP API until SIGINT or SIGTERM, then stops
// accepting connections and lets in-flight requests finish.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"ces/internal/admin"
	"ces/internal/cache"
	"ces/internal/clients"
	"ces/internal/config"
	"ces/internal/conversions"
	"ces/internal/httpapi"
	"ces/internal/ingestion"
	"ces/internal/logging"
	"ces/internal/metrics"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/temporalconn"
	"ces/internal/tracing"
)

func main() {
	log := logging.New("api")
	defer logging.Flush()
	cfg, err := config.Load()
	if err != nil {
		logging.Fatal(log, "configuration", err)
	}
	if len(cfg.FromEnvFile) > 0 {
		log.Info("read variables unset in the environment from "+config.EnvFile, "variables", strings.Join(cfg.FromEnvFile, ","))
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		// For container healthchecks: the image has no curl.
		os.Exit(healthcheck(cfg.HTTPAddr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// Off (no OTLP endpoint), nothing below is instrumented at all.
	traces, err := tracing.Setup(ctx, "ces-api", cfg.OTelEnviron())
	if err != nil {
		logging.Fatal(log, "tracing", err)
	}
	defer shutdownTracing(log, traces)
	log.Info("tracing", "tracing", traces.Describe(cfg.OTelEnviron()))
	var queryTracer pgx.QueryTracer
	if traces.Enabled() {
		queryTracer = store.NewQueryTracer(traces.TracerProvider())
	}
	db, err := store.OpenInstrumented(ctx, cfg.DatabaseURL, cfg.DBMaxConns, store.Limits{Statement: cfg.DBStatementTimeout, Lock: cfg.DBLockTimeout}, queryTracer)
	if err != nil {
		logging.Fatal(log, "database", err)
	}
	defer db.Close()
	// History must be out of this process's reach: refuse the owner's or a
	// superuser's login. A database that cannot answer yet is no verdict:
	// the process starts and serves what it can.
	if err := store.CheckLeastPrivilege(ctx, db); errors.Is(err, store.ErrPrivileged) {
		logging.Fatal(log, "database", err)
	} else if err != nil {
		log.Warn("could not check the database login's privileges", "error", err.Error())
	}
	st := store.New(db)
	rdb, err := cache.NewClient(cache.Conn{URL: cfg.RedisURL, Cluster: cfg.RedisCluster, SentinelMaster: cfg.RedisSentinelMaster, SentinelPassword: cfg.RedisSentinelPassword}, cache.APITimeouts)
	if err != nil {
		logging.Fatal(log, "redis", err)
	}
	defer rdb.Close()
	if traces.Enabled() {
		if err := cache.Trace(rdb, traces.TracerProvider()); err != nil {
			logging.Fatal(log, "tracing", err)
		}
	}
	c := cache.New(rdb, "ces:")
	// Lazy: the API serves rates while Temporal is down; readyz says so.
	topts, err := cfg.TemporalOptions()
	if err != nil {
		logging.Fatal(log, "temporal", err)
	}
	topts.Logger = tlog.NewStructuredLogger(log.With("component", "temporal"))
	if traces.Enabled() {
		if err := temporalconn.Trace(&topts, traces.TracerProvider()); err != nil {
			logging.Fatal(log, "tracing", err)
		}
	}
	log.Info("Temporal, for the console and readiness", "temporal", temporalconn.Describe(topts))
	tc, err := client.NewLazyClient(topts)
	if err != nil {
		logging.Fatal(log, "temporal", err)
	}
	defer tc.Close()

	m := metrics.NewAPI(cfg.FXProviders, st.Rates.NewestAsOf, time.Now)
	m.WatchSealing(st.Audit.OldestUnsealed, time.Now)
	m.WatchWaiting(func(ctx context.Context) (metrics.Waiting, error) {
		w, err := st.Quality.Waiting(ctx)
		return metrics.Waiting{Held: w.Held, OldestHeld: w.OldestHeld, Suspended: w.Suspended}, err
	}, time.Now)
	m.WatchVerification(func(ctx context.Context) (bool, time.Time, bool, error) {
		v, found, err := st.Audit.LatestVerification(ctx)
		return v.Problem == "", v.VerifiedAt, found, err
	}, time.Now)
	ropts := rates.Options{
		Providers: cfg.FXProviders, Priority: cfg.SourcePriority, Authority: rates.DefaultAuthority(), StaleAfter: cfg.StaleAfter,
		Log: log, Observer: m, NearCacheTTL: rates.NearCacheTTL, HistoryCacheBytes: int64(cfg.HistoryCacheMB) << 20, Health: st.Health,
	}
	if cfg.HistoryCacheMB > 0 {
		// The history cache listens on a connection of its own, beside the pool.
		ldb, err := store.OpenListener(ctx, cfg.DatabaseURL, store.Limits{Statement: cfg.DBStatementTimeout, Lock: cfg.DBLockTimeout})
		if err != nil {
			logging.Fatal(log, "database", err)
		}
		defer ldb.Close()
		ropts.Listen = store.NewRates(ldb)
	}
	svc := rates.New(st.Rates, st.Quality, c, ropts)
	m.WatchHistoryCache(svc.HistoryCache)
	go svc.Watch(ctx)
	// An eighth of the pool, two connections at least, stays for lookups
	// and readiness checks while conversions wait on a locked table.
	conv := conversions.New(svc, st.Conversions, conversions.Options{Margin: cfg.ConversionMargin, MaxRateAge: cfg.MaxConvertAge, StaleAfter: cfg.StaleAfter,
		MaxConcurrent: max(1, cfg.DBMaxConns-max(2, cfg.DBMaxConns/8)), QuoteTTL: cfg.QuoteTTL})
	controls := map[string]admin.Ingestion{}
	for _, p := range cfg.FXProviders {
		controls[p] = ingestion.NewControl(tc, p, "")
	}
	auth := clients.NewAuthenticator(st.Keys, rdb, "ces:", log)
	go auth.Watch(ctx)
	console, err := admin.New(admin.Deps{
		Revocations: auth,
		Redis:       rdb, RedisPrefix: "ces:",
		Stores: admin.StoresOf(st), Verifications: ingestion.NewVerifications(tc, cfg.AuditTaskQueue), Ingestion: controls, Providers: cfg.FXProviders, Rates: svc,
		StaleAfter: cfg.StaleAfter, TemporalUI: cfg.TemporalUIURL, Namespace: cfg.TemporalNamespace, Log: log,
	})
	if err != nil {
		logging.Fatal(log, "admin console", err)
	}
	quotas := clients.NewQuotas(rdb, "ces:", map[string]int{
		clients.ScopeRatesRead: cfg.QuotaRatesPerMinute, clients.ScopeConvert: cfg.QuotaConvertPerMinute,
	}, m.QuotaUnchecked)
	// Lookups without a key are counted per address in this process alone.
	var addressQuotas httpapi.AddressQuotas
	if cfg.RatesPublic && cfg.QuotaAnonymousPerMinute > 0 {
		addressQuotas = clients.NewAddressQuotas(cfg.QuotaAnonymousPerMinute, time.Now)
	}
	deps := httpapi.Deps{
		Auth:          auth,
		RatesPublic:   cfg.RatesPublic,
		Quotas:        quotas,
		AddressQuotas: addressQuotas,
		CORSOrigins:   cfg.CORSAllowOrigins,
		Admin:         console,
		AuditKeys:     st.Audit,
		Rates:         svc,
		Conversions:   conv,
		Checks: map[string]httpapi.Check{
			"postgres": st.Ping,
			// Optional: a locked conversion_audits degrades, lookups still work.
			"postgres_writes": func(ctx context.Context) error { return st.Conversions.CanWrite(ctx, 250*time.Millisecond) },
			"redis":           c.Ping,
			"temporal": func(ctx context.Context) error {
				_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			},
		},
		Required: []string{"postgres"},
		Checked:  m.Dependency,
		LastIngestionError: func(ctx context.Context) string {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			var msgs []string
			for _, p := range cfg.FXProviders {
				if msg := ingestion.LastIngestionError(ctx, tc, p); msg != "" {
					msgs = append(msgs, p+": "+msg)
				}
			}
			return strings.Join(msgs, "; ")
		},
		Log:            log,
		Metrics:        m,
		MetricsHandler: m.Handler(),
		RequestTimeout: cfg.RequestTimeout,
		TrustedProxies: cfg.TrustedProxies,
		Tracing:        traces.Enabled(),
	}
	app, adminApp := httpapi.New(deps), httpapi.NewAdmin(deps)

	if cfg.PprofAddr != "" {
		go func() {
			// net/http/pprof registers on the default mux.
			srv := &http.Server{Addr: cfg.PprofAddr, ReadHeaderTimeout: 5 * time.Second}
			log.Info("pprof listening", "addr", cfg.PprofAddr, "error", fmt.Sprint(srv.ListenAndServe()))
		}()
	}
	// Both listeners are bound before either serves, so that a taken port
	// stops the process at once instead of leaving half of it up.
	pub, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		logging.Fatal(log, "listen", err)
	}
	adm, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		logging.Fatal(log, "listen on ADMIN_ADDR", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- app.Listener(pub) }()
	go func() { errc <- adminApp.Listener(adm) }()
	log.Info("api listening", "addr", cfg.HTTPAddr, "admin_addr", cfg.AdminAddr, "trusted_proxies", len(cfg.TrustedProxies),
		"providers", strings.Join(cfg.FXProviders, ","), "priority", strings.Join(cfg.SourcePriority, ","))
	select {
	case err := <-errc:
		if err == nil {
			err = errors.New("a listener closed")
		}
		logging.Fatal(log, "listen", err)
	case <-ctx.Done():
		log.Info("shutting down; draining in-flight requests")
		var wg sync.WaitGroup
		for _, a := range []*fiber.App{app, adminApp} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := a.ShutdownWithTimeout(20 * time.Second); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					log.Error("shutdown", "error", err.Error())
				}
			}()
		}
		wg.Wait()
	}
	log.Info("api stopped")
}

// shutdownTracing exports the spans still buffered, within a bound.
func shutdownTracing(log *slog.Logger, traces *tracing.Provider) {
	ctx, cancel := context.WithTimeout(context.Background(), tracing.ShutdownTimeout)
	defer cancel()
	if err := traces.Shutdown(ctx); err != nil {
		log.Warn("tracing", "error", err.Error())
	}
}

// healthcheck asks the API listening on addr for /healthz and returns the
// process exit code: 0 when it answers 200.
func healthcheck(addr string) int {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 1
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
