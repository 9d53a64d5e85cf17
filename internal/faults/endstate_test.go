package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/flow"
	"ces/internal/store"
)

func expEndState(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	r.check(t, "no duplicate rate in the whole run", s.duplicates(ctx) == 0, "%d duplicated (provider, pair, as_of); %d rate rows", s.duplicates(ctx), s.rateRows(ctx))
	// Seal what the run wrote, through Temporal as the schedule does: signed,
	// and anchored outside the private cluster.
	var sealed flow.SealAuditResult
	began := time.Now()
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "seal-end-state", TaskQueue: auditQueue}, flow.SealAuditLogName)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		err = run.Get(sctx, &sealed)
		cancel()
	}
	r.check(t, "the worker seals, signs and anchors the log", err == nil && sealed.Sealed && sealed.Anchored > 0, "seal %d over %d rows, %d anchored, in %s; %v",
		sealed.SealID, sealed.Rows, sealed.Anchored, time.Since(began).Round(time.Millisecond), err)
	out, err := s.starter(ctx, "verify-audit", "--full")
	r.check(t, "starter verify-audit --full is clean, every seal anchored", err == nil && strings.Contains(out, "verify-audit: ok") && strings.Contains(out, " 0 not anchored yet"), "%s", lastLine(out))
	obs, ok := s.redisMatchesPG(ctx)
	r.check(t, "Redis equals PostgreSQL", ok, "%s", obs)
	apiLogin, workerLogin := store.DatabaseLogins("ces")
	api := s.count(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ces' AND usename = ?", apiLogin)
	worker := s.count(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ces' AND usename = ?", workerLogin)
	r.check(t, "the api and the worker ran as their own logins, not the owner", api > 0 && worker > 0,
		"%d sessions as %s, %d as %s", api, apiLogin, worker, workerLogin)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
