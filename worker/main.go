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
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"ces/activities"
	"ces/internal/anchor"
	"ces/internal/cache"
	"ces/internal/config"
	"ces/internal/logging"
	"ces/internal/metrics"
	"ces/internal/store"
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
	// an anchor it cannot reach; a worker that could do neither must not
	// start.
	signer, err := cfg.Signer()
	if err != nil {
		logging.Fatal(log, "configuration", err)
	}
	if cfg.SigningKeyExposed() {
		log.Warn("AUDIT_SIGNING_KEY_FILE is readable by other users; chmod 600 it")
	}
	sink, err := anchor.NewDir(cfg.AuditAnchorDir)
	if err != nil {
		logging.Fatal(log, "configuration", fmt.Errorf("AUDIT_ANCHOR_DIR: %w", err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, err := store.OpenWithLimits(ctx, cfg.DatabaseURL, cfg.DBMaxConns, store.Limits{Statement: cfg.DBStatementTimeout, Lock: cfg.DBLockTimeout})
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
	rdb, err := cache.NewClient(cfg.RedisURL, cache.WorkerTimeouts)
	if err != nil {
		logging.Fatal(log, "redis", err)
	}
	defer rdb.Close()
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
	tc, err := client.Dial(client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: tlog.NewStructuredLogger(log), MetricsHandler: m.Temporal(),
	})
	if err != nil {
		logging.Fatal(log, "temporal", err)
	}
	defer tc.Close()

	w := worker.New(tc, cfg.TaskQueue, worker.Options{WorkerStopTimeout: 30 * time.Second})
	acts := &activities.Activities{
		Providers: activities.NewSources(cfg),
		Store:     store.New(db),
		Cache:     cache.New(rdb, "ces:"),
		Now:       time.Now,
		JumpLimit: cfg.RateJumpLimit,
		Metrics:   m,
		Signer:    signer,
		Anchor:    sink,
	}
	workflows.Register(w, acts)
	// Publish the key now, so it can be pinned before the first seal; a
	// database that cannot answer yet gets it from the first seal run.
	if err := acts.PublishSigningKey(ctx); err != nil {
		log.Warn("could not publish the seal signing key yet", "error", err.Error())
	}
	log.Info("worker starting", "task_queue", cfg.TaskQueue, "providers", strings.Join(cfg.FXProviders, ","), "metrics", cfg.MetricsAddr,
		"temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace, "seal_key_id", signer.KeyID(), "anchor", cfg.AuditAnchorDir)
	interrupt := make(chan any)
	go func() { <-ctx.Done(); close(interrupt) }()
	if err := w.Run(interrupt); err != nil {
		logging.Fatal(log, "worker", err)
	}
	slog.Info("worker stopped")
}

func metricsMux(m *metrics.Worker) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	return mux
}
