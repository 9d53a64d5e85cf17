// Command worker runs the CES Temporal worker: it executes IngestRates and
// its activities until SIGINT or SIGTERM, then lets running activities
// finish (up to WorkerStopTimeout) before exiting.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/cache"
	"ces/internal/config"
	"ces/internal/logging"
	"ces/internal/metrics"
	"ces/internal/store"
	"ces/internal/temporalconn"
	"ces/internal/tracing"
	"ces/workflows"
)

func main() {
	log := logging.New("worker")
	defer logging.Flush()
	cfg, err := config.Load()
	if err != nil {
		logging.Fatal(log, "configuration", err)
	}
	if len(cfg.FromEnvFile) > 0 {
		log.Info("read variables unset in the environment from "+config.EnvFile, "variables", strings.Join(cfg.FromEnvFile, ","))
	}
	// Seals are signed with a key the database never sees, and copied to
	// an anchor it cannot reach; a worker serving the audit queue that
	// could do neither must not start.
	var signer *audit.Signer
	var sink anchor.Sink
	if slices.Contains(cfg.WorkerQueues, config.QueueAudit) {
		if signer, err = cfg.Signer(); err != nil {
			logging.Fatal(log, "configuration", err)
		}
		if cfg.SigningKeyExposed() {
			log.Warn("AUDIT_SIGNING_KEY_FILE is readable by other users; chmod 600 it")
		}
		if sink, err = anchor.NewDir(cfg.AuditAnchorDir); err != nil {
			logging.Fatal(log, "configuration", fmt.Errorf("AUDIT_ANCHOR_DIR: %w", err))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// Off (no OTLP endpoint), nothing below is instrumented at all.
	traces, err := tracing.Setup(ctx, "ces-worker", cfg.OTelEnviron())
	if err != nil {
		logging.Fatal(log, "tracing", err)
	}
	defer shutdownTracing(log, traces)
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
	rdb, err := cache.NewClient(cache.Conn{URL: cfg.RedisURL, Cluster: cfg.RedisCluster, SentinelMaster: cfg.RedisSentinelMaster, SentinelPassword: cfg.RedisSentinelPassword}, cache.WorkerTimeouts)
	if err != nil {
		logging.Fatal(log, "redis", err)
	}
	defer rdb.Close()
	if traces.Enabled() {
		if err := cache.Trace(rdb, traces.TracerProvider()); err != nil {
			logging.Fatal(log, "tracing", err)
		}
	}
	m, err := metrics.NewWorker(log)
	if err != nil {
		logging.Fatal(log, "metrics", err)
	}
	metricsSrv := &http.Server{Addr: cfg.MetricsAddr, Handler: metricsMux(m), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := metricsSrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "addr", cfg.MetricsAddr, "error", err.Error())
		}
	}()
	defer metricsSrv.Close()
	topts, err := cfg.TemporalOptions()
	if err != nil {
		logging.Fatal(log, "temporal", err)
	}
	topts.Logger, topts.MetricsHandler = tlog.NewStructuredLogger(log), m.Temporal()
	if traces.Enabled() {
		// One trace from each workflow through its activities.
		if err := temporalconn.Trace(&topts, traces.TracerProvider()); err != nil {
			logging.Fatal(log, "tracing", err)
		}
	}
	log.Info("connecting to Temporal", "temporal", temporalconn.Describe(topts))
	tc, err := client.Dial(topts)
	if err != nil {
		logging.Fatal(log, "temporal", fmt.Errorf("%s: %w", temporalconn.Describe(topts), err))
	}
	defer tc.Close()

	rateStore := store.NewRates(db)
	acts := &activities.Activities{
		Providers: activities.NewSources(cfg),
		Rates:     rateStore,
		Quality:   store.NewQuality(db),
		Audit:     store.NewAudit(db),
		Cache:     cache.New(rdb, "ces:"),
		Now:       time.Now,
		JumpLimit: cfg.RateJumpLimit,
		// The gate weighs the configured publishers' rates only
		// (Providers, from FX_PROVIDERS).
		Consensus:       cfg.GateConsensus,
		ReferenceMaxAge: cfg.GateReferenceMaxAge,
		Metrics:         m,
		Signer:          signer,
		Anchor:          sink,
		KeyRetention:    cfg.IdempotencyKeyRetention,
		// Publisher health checks (the ingest queue).
		Publications: rateStore, Health: store.NewHealth(db), HealthRule: cfg.HealthRule(), HealthMetrics: m,
	}
	// One SDK worker per queue this process serves: ingestion and backfills
	// on TEMPORAL_TASK_QUEUE, sealing and verification on
	// TEMPORAL_AUDIT_TASK_QUEUE.
	var workers []worker.Worker
	var queues []string
	for _, q := range cfg.WorkerQueues {
		switch q {
		case config.QueueIngest:
			w := worker.New(tc, cfg.TaskQueue, worker.Options{WorkerStopTimeout: 30 * time.Second})
			workflows.RegisterIngest(w, acts)
			workers, queues = append(workers, w), append(queues, cfg.TaskQueue)
		case config.QueueAudit:
			w := worker.New(tc, cfg.AuditTaskQueue, worker.Options{WorkerStopTimeout: 30 * time.Second})
			workflows.RegisterAudit(w, acts)
			workers, queues = append(workers, w), append(queues, cfg.AuditTaskQueue)
			// Publish the key now, so it can be pinned before the first
			// seal; a database that cannot answer yet gets it from the
			// first seal run.
			if err := acts.PublishSigningKey(ctx); err != nil {
				log.Warn("could not publish the seal signing key yet", "error", err.Error())
			}
			// Next months' audit partitions, before any seal runs; the
			// seal runs keep them made from then on.
			mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			made, forgotten, err := activities.MaintainAuditLog(mctx, acts.Audit, acts.KeyRetention)
			cancel()
			if err != nil {
				log.Warn("could not make the audit log's partitions yet", "error", err.Error())
			} else if len(made) > 0 || forgotten > 0 {
				log.Info("audit log storage kept", "partitions_made", strings.Join(made, ","), "idempotency_keys_forgotten", forgotten)
			}
		}
	}
	keyID := ""
	if signer != nil {
		keyID = signer.KeyID()
	}
	log.Info("worker starting", "task_queues", strings.Join(queues, ","), "providers", strings.Join(cfg.FXProviders, ","), "metrics", cfg.MetricsAddr,
		"temporal", temporalconn.Describe(topts), "seal_key_id", keyID, "anchor", cfg.AuditAnchorDir, "tracing", traces.Describe(cfg.OTelEnviron()))
	for _, w := range workers {
		if err := w.Start(); err != nil {
			logging.Fatal(log, "worker", err)
		}
	}
	<-ctx.Done()
	// Running activities get WorkerStopTimeout to finish, on every queue at once.
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.Stop() }()
	}
	wg.Wait()
	slog.Info("worker stopped")
}

// shutdownTracing exports the spans still buffered, within a bound.
func shutdownTracing(log *slog.Logger, traces *tracing.Provider) {
	ctx, cancel := context.WithTimeout(context.Background(), tracing.ShutdownTimeout)
	defer cancel()
	if err := traces.Shutdown(ctx); err != nil {
		log.Warn("tracing", "error", err.Error())
	}
}

func metricsMux(m *metrics.Worker) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	return mux
}
