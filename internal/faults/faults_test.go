package faults_test

import (
	"os"
	"testing"
	"time"
)

// Bounds the suite holds CES to (issue 12).
const (
	// lookupP99 is the 99th percentile of lookups after a Redis fault's
	// first second, with 40 concurrent clients.
	lookupP99 = 50 * time.Millisecond
	// requestTimeout is the API's REQUEST_TIMEOUT: shorter than the
	// default, and than DB_LOCK_TIMEOUT's 5 s, so a statement waiting on
	// a lock outlives its request's deadline unless CES stops it.
	requestTimeout = 2 * time.Second
	lookupPath     = "/api/v1/rates?from=USD&to=JPY"
)

// TestFaults runs every experiment against one stack, in order; each
// leaves the stack healthy for the next. make faults runs it (and make
// test runs make faults); without CES_FAULTS=1 it skips, because it needs
// the machine to itself for its latency bound.
func TestFaults(t *testing.T) {
	if os.Getenv("CES_FAULTS") != "1" {
		t.Skip("the fault-injection suite runs with make faults (CES_FAULTS=1), which make test calls")
	}
	s := newStack(t)
	rep := &report{}
	defer rep.write(t, s)
	for _, e := range []struct {
		name string
		run  func(t *testing.T, s *stack, r *reporter)
	}{
		{"bad-requests", expBadRequests},
		{"redis-frozen", expRedisFrozen},
		{"redis-down", expRedisDown},
		{"redis-flushed", expRedisFlushed},
		{"postgres-stopped", expPostgresStopped},
		{"provider-500", expProvider500},
		{"provider-garbage", expProviderGarbage},
		{"provider-hang", expProviderHang},
		{"provider-slow", expProviderSlow},
		{"worker-killed-in-insert", expKillInInsert},
		{"worker-killed-in-cache", expKillInCache},
		{"temporal-restart", expTemporalRestart},
		{"db-lock-conversions", expLockDuringConversions},
		{"sigterm-under-load", expSigtermUnderLoad},
		{"api-killed-under-lock", expKillAPIUnderLock},
		{"replicas-ingestion", expReplicasIngestion},
		{"replicas-idempotency", expReplicasIdempotency},
		{"replicas-shared-limits", expReplicasSharedLimits},
		{"replicas-sealing", expReplicasSealing},
		{"replicas-worker-killed", expReplicasWorkerKilled},
		{"poisoned-cache", expPoisonedCache},
		{"held-series", expHeldSeries},
		{"consensus", expConsensus},
		{"end-state", expEndState},
	} {
		t.Run(e.name, func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("api log:\n%s\nworker log:\n%s", s.api.tail(), s.worker.tail())
				}
			}()
			e.run(t, s, rep.experiment(e.name))
		})
	}
}
