package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func expPostgresStopped(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	want := s.newestAsOf(ctx)
	apiPid, workerPid := s.api.pid(), s.worker.pid()
	since := time.Now()
	hc := httpClient(10 * time.Second)
	var stopped, flushed time.Time
	var pgOnly []answer
	var readyDown answer
	var lookups, convs []answer
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		lookups = s.lookupLoad(ctx, hc, 20, 50*time.Millisecond, 6*time.Second)
	}()
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(ctx, hc, r.name, 2, 200*time.Millisecond, 6*time.Second)
	}()
	go func() {
		defer wg.Done()
		time.Sleep(500 * time.Millisecond)
		if err := s.pg.Stop(); err != nil {
			t.Error(err)
		}
		stopped = time.Now()
		time.Sleep(1500 * time.Millisecond)
		// Routes that always need PostgreSQL.
		for _, path := range []string{lookupPath + "&at=2017-01-10", "/api/v1/rates/history?from=USD&to=JPY&start=2017-01-01&end=2017-01-31"} {
			pgOnly = append(pgOnly, get(ctx, hc, s.apiURL+path))
		}
		readyDown = get(ctx, hc, s.apiURL+"/readyz")
		// A pair neither in memory nor in Redis any more.
		s.rdb.FlushAll(ctx)
		flushed = time.Now()
	}()
	wg.Wait()
	s.pg.Start(t)

	var fromRedis, afterFlush []answer
	for _, a := range lookups {
		switch {
		case a.sent.After(stopped) && a.sent.Before(flushed):
			fromRedis = append(fromRedis, a)
		case a.sent.After(flushed.Add(time.Second)):
			afterFlush = append(afterFlush, a)
		}
	}
	bad, ex := checkLookups(fromRedis, want)
	r.check(t, "lookups answer 200 from Redis while PostgreSQL is down", bad == 0 && len(fromRedis) > 0,
		"%d lookups %s; bad %d %s", len(fromRedis), summary(fromRedis), bad, ex)
	r.check(t, "with Redis emptied too, lookups answer 503 database_unavailable, never 500", all(afterFlush, dbUnavailable),
		"%d lookups %s", len(afterFlush), summary(afterFlush))
	var codes []string
	for _, a := range pgOnly {
		codes = append(codes, fmt.Sprintf("%d %s", a.status, a.errorCode()))
	}
	r.check(t, "at= and history answer 503 database_unavailable", len(pgOnly) == 2 && all(pgOnly, dbUnavailable), "%s", strings.Join(codes, ", "))
	r.check(t, "readyz answers 503 while PostgreSQL is down", readyDown.status == 503, "%d", readyDown.status)
	var during []answer
	for _, c := range convs {
		if c.sent.After(stopped) && c.sent.Before(flushed) {
			during = append(during, c)
		}
	}
	r.check(t, "conversions answer 503 database_unavailable while PostgreSQL is down", all(during, dbUnavailable), "%d conversions %s", len(during), summary(during))

	var rec answer
	var look answer
	recovered := eventually(20*time.Second, func() bool {
		rec = convert(ctx, hc, s.apiURL, "")
		look = get(ctx, hc, s.apiURL+lookupPath)
		return rec.status == 201 && look.status == 200 && get(ctx, hc, s.apiURL+"/readyz").status == 200
	})
	obs, ok := s.accountConversions(ctx, since, append(convs, rec))
	r.check(t, "nothing written by refused conversions: every 201 stored, every stored row answered 201", ok, "%s", obs)
	r.check(t, "recovery after restart without restarting the api or worker",
		recovered && s.api.pid() == apiPid && s.worker.pid() == workerPid && s.api.running() && s.worker.running(),
		"conversion %d, lookup %d after PostgreSQL restarted; same api and worker processes: %v",
		rec.status, look.status, s.api.pid() == apiPid && s.worker.pid() == workerPid)
}

// lockConversions takes a lock on conversion_audits, as a migration or a
// VACUUM FULL would, and returns its release. It may run outside the
// test's goroutine, so it reports instead of failing.
func (s *stack) lockConversions(t *testing.T, mode string) func() {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, "LOCK TABLE conversion_audits IN "+mode+" MODE")
	}
	if err != nil {
		t.Errorf("lock conversion_audits: %v", err)
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { tx.Rollback() }) }
}

func expLockDuringConversions(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	since := time.Now()
	// A client that waits up to 10 s, longer than REQUEST_TIMEOUT and the
	// lock: every conversion is answered, and one committed after its
	// answer shows as stored but never answered 201.
	hc := httpClient(10 * time.Second)
	var convs []answer
	var ready answer
	var lockedAt, releasedAt time.Time
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(ctx, hc, r.name, 16, 100*time.Millisecond, 8*time.Second)
	}()
	go func() {
		defer wg.Done()
		time.Sleep(time.Second)
		release := s.lockConversions(t, "ACCESS EXCLUSIVE")
		lockedAt = time.Now()
		time.Sleep(time.Second)
		ready = get(ctx, http.DefaultClient, s.apiURL+"/readyz")
		time.Sleep(2500 * time.Millisecond)
		// Released before the waiting statements' lock_timeout.
		release()
		releasedAt = time.Now()
	}()
	wg.Wait()
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "every 201 stored, every stored row answered 201", ok, "%s", obs)
	// Caught: waiting on the lock when their deadline passed.
	var caught, late []answer
	var slowest time.Duration
	for _, c := range convs {
		if c.sent.Add(c.took).After(lockedAt.Add(200*time.Millisecond)) && c.sent.Add(requestTimeout).Before(releasedAt) {
			caught = append(caught, c)
			slowest = max(slowest, c.took)
		}
		if c.sent.After(releasedAt.Add(500 * time.Millisecond)) {
			late = append(late, c)
		}
	}
	keyed, odd := len(caught) > 0, ""
	for _, c := range caught {
		if !dbUnavailable(c) || c.key == "" {
			keyed = false
			odd = fmt.Sprintf("; e.g. %d %q after %s, key %q: %.200s", c.status, c.errorCode(), ms(c.took), c.key, c.body)
		}
	}
	r.check(t, "conversions caught by the lock answer 503 database_unavailable within REQUEST_TIMEOUT, with the key to retry with",
		keyed && slowest < requestTimeout+500*time.Millisecond, "%d conversions %s, slowest %s%s", len(caught), summary(caught), ms(slowest), odd)
	var rj struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	json.Unmarshal(ready.body, &rj)
	r.check(t, "readyz says degraded while conversions cannot write", ready.status == 200 && rj.Status == "degraded" && rj.Checks["postgres_writes"].Status == "failing",
		"%d %s, postgres_writes %s", ready.status, rj.Status, rj.Checks["postgres_writes"].Status)
	r.check(t, "conversions succeed again once the lock is gone", all(late, created), "%d conversions %s", len(late), summary(late))
}
