package faults_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"ces/internal/flow"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// insertBlocked starts an ingestion of the next day with exchange_rates
// locked, and waits until a worker's InsertRates waits on that lock. It
// returns the run, whether that happened, the identity of the worker
// holding the insert, and the commit that lifts the lock.
func (s *stack) insertBlocked(t *testing.T, id string) (run client.WorkflowRun, waiting bool, holder string, unlock func()) {
	t.Helper()
	ctx := context.Background()
	s.provider.advance()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.ExecContext(ctx, "LOCK TABLE exchange_rates IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	if run, err = s.start(ctx, id); err != nil {
		t.Fatal(err)
	}
	waiting = eventually(20*time.Second, func() bool {
		p := s.pending(ctx, id, "InsertRates")
		holder = p.GetLastWorkerIdentity()
		return p != nil && p.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
			s.waitingOnLock(ctx, "exchange_rates") > 0
	})
	return run, waiting, holder, func() { tx.Commit() }
}

func expKillInInsert(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	run, waiting, _, unlock := s.insertBlocked(t, "faults-"+r.name)
	old := s.worker.pid()
	s.worker.kill()
	unlock() // the dead worker's session may now go on: it must not commit
	r.check(t, "the worker is killed (kill -9) inside InsertRates", waiting, "pid %d killed while its insert waited on a table lock", old)
	s.worker = s.newWorker(t)
	var res flow.IngestResult
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err := run.Get(wctx, &res)
	day := s.count(ctx, "SELECT count(*) FROM exchange_rates WHERE provider = 'ecb' AND as_of::date = CAST(? AS date)", s.provider.date())
	r.check(t, "the run completes on a new worker, the day stored once",
		err == nil && res.Fetched > 0 && res.Inserted+res.AlreadyPresent == res.Fetched && day == res.Fetched,
		"err %v; fetched %d, inserted %d, already present %d; %d rows of %s", err, res.Fetched, res.Inserted, res.AlreadyPresent, day, s.provider.date())
	r.check(t, "no duplicate rate", s.duplicates(ctx) == 0, "%d duplicated (provider, pair, as_of)", s.duplicates(ctx))
	obs, ok := s.redisMatchesPG(ctx)
	r.check(t, "Redis equals PostgreSQL", ok, "%s", obs)
}

func expKillInCache(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	s.provider.advance()
	s.redis.proc.signal(syscall.SIGSTOP)
	defer s.redis.proc.signal(syscall.SIGCONT)
	id := "faults-" + r.name
	run, err := s.start(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	inside := eventually(20*time.Second, func() bool {
		p := s.pending(ctx, id, "CacheRates")
		return p != nil && p.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	})
	time.Sleep(300 * time.Millisecond) // let it send its script to the frozen Redis
	old := s.worker.pid()
	s.worker.kill()
	s.redis.proc.signal(syscall.SIGCONT)
	// Redis now runs what the dead worker sent.
	landed := eventually(3*time.Second, func() bool { _, ok := s.redisMatchesPG(ctx); return ok })
	r.check(t, "the worker is killed (kill -9) inside CacheRates, after its write reached Redis", inside && landed,
		"pid %d killed while Redis was frozen; its write landed when Redis resumed: %v", old, landed)
	s.worker = s.newWorker(t)
	var res flow.IngestResult
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = run.Get(wctx, &res)
	r.check(t, "the run completes on a new worker and cache_updated counts the killed attempt's update",
		err == nil && res.Inserted > 0 && res.CacheUpdated == res.Inserted,
		"err %v; inserted %d series of %s, cache_updated %d", err, res.Inserted, s.provider.date(), res.CacheUpdated)
	obs, ok := s.redisMatchesPG(ctx)
	r.check(t, "Redis equals PostgreSQL, no duplicate rate", ok && s.duplicates(ctx) == 0, "%s; %d duplicates", obs, s.duplicates(ctx))
}
