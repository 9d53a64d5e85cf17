package faults_test

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// storm is the Redis experiments' load: 40 lookup clients (at most 20
// requests a second each) and 2 conversion clients (5 a second each, one
// with keys, one without) for dur; fault runs at faultAt.
func (s *stack) storm(ctx context.Context, name string, dur, faultAt time.Duration, fault func()) (lookups, convs []answer, at time.Time) {
	hc := httpClient(10 * time.Second)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		lookups = s.lookupLoad(ctx, hc, 40, 50*time.Millisecond, dur)
	}()
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(ctx, hc, name, 2, 200*time.Millisecond, dur)
	}()
	go func() {
		defer wg.Done()
		time.Sleep(faultAt)
		at = time.Now()
		fault()
	}()
	wg.Wait()
	return lookups, convs, at
}

// redisFault is one Redis experiment: the fault under load, the bound
// after its first second, answers never older than PostgreSQL, and
// conversions unaffected.
func redisFault(t *testing.T, s *stack, r *reporter, fault, repair func()) {
	ctx := context.Background()
	want := s.newestAsOf(ctx)
	since := time.Now()
	lookups, convs, at := s.storm(ctx, r.name, 5*time.Second, 500*time.Millisecond, fault)
	repair()
	p, n := p99(lookups, at.Add(time.Second))
	bad, ex := checkLookups(lookups, want)
	r.check(t, "lookups after the fault's first second: p99 ≤ 50 ms (40 clients)", p <= lookupP99 && n > 0,
		"p99 %s over %d lookups (%.0f req/s offered at most)", ms(p), n, 40/0.05)
	r.check(t, "every lookup 200 with PostgreSQL's newest rate, never older", bad == 0,
		"%d of %d lookups %s; bad: %d %s", len(lookups), len(lookups), summary(lookups), bad, ex)
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "conversions keep working, each stored once", ok && all(convs, created), "%s", obs)
}

func expRedisFrozen(t *testing.T, s *stack, r *reporter) {
	redisFault(t, s, r,
		func() { s.redis.proc.signal(syscall.SIGSTOP) },
		func() { s.redis.proc.signal(syscall.SIGCONT) })
}

func expRedisDown(t *testing.T, s *stack, r *reporter) {
	redisFault(t, s, r,
		func() { s.redis.proc.stop(5 * time.Second) },
		func() { s.redis.start(t) })
	refilled(t, s, r)
}

func expRedisFlushed(t *testing.T, s *stack, r *reporter) {
	redisFault(t, s, r,
		func() { s.rdb.FlushAll(context.Background()) },
		func() {})
	refilled(t, s, r)
}

// refilled: after Redis lost its data, the API writes PostgreSQL's
// newest rates back on its next read.
func refilled(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	var obs string
	ok := eventually(5*time.Second, func() bool {
		get(ctx, http.DefaultClient, s.apiURL+lookupPath)
		var ok bool
		obs, ok = s.redisMatchesPG(ctx)
		return ok
	})
	r.check(t, "Redis is refilled from PostgreSQL without an ingestion", ok, "%s", obs)
}
