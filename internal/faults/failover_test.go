package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/flow"
	"ces/internal/testenv"
)

// failoverDetection is how long the experiment leaves the cluster without
// a primary between losing it and promoting the standby: a failover
// manager's (Patroni's, a cloud's) detection time, kept short.
const failoverDetection = time.Second

// TestPostgresFailover loses the primary of a PostgreSQL pair (a
// synchronous streaming standby) under conversion load and promotes the
// standby, with every process's DATABASE_URL naming both hosts under
// target_session_attrs=read-write. It runs with the suite (make faults)
// on a stack of its own, and writes its table to .data/faults-failover.txt
// (FAULTS_FAILOVER_REPORT).
func TestPostgresFailover(t *testing.T) {
	if os.Getenv("CES_FAULTS") != "1" {
		t.Skip("the fault-injection suite runs with make faults (CES_FAULTS=1), which make test calls")
	}
	s := newStackIn(t, "faults-failover", true)
	rep := &report{}
	defer writeFailoverReport(t, s, rep)
	defer func() {
		if t.Failed() {
			t.Logf("api log:\n%s\nworker log:\n%s", s.api.tail(), s.worker.tail())
		}
	}()
	expPostgresFailover(t, s, rep.experiment("postgres-failover"))
}

func expPostgresFailover(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	// Something to seal before the failover.
	for range 3 {
		if a := convert(ctx, httpClient(10*time.Second), s.apiURL, ""); a.status != 201 {
			t.Fatalf("conversion before the failover: %d %s", a.status, a.body)
		}
	}
	before, err := s.seal(ctx, "seal-before-failover")
	if err != nil || !before.Sealed {
		t.Fatalf("seal before the failover: %+v, %v\nworker log:\n%s", before, err, s.worker.tail())
	}
	apiPid, workerPid := s.api.pid(), s.worker.pid()
	since := time.Now()
	hc := httpClient(10 * time.Second)
	var convs []answer
	var crashed, promoted time.Time
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(ctx, hc, r.name, 4, 100*time.Millisecond, 10*time.Second)
	}()
	go func() {
		defer wg.Done()
		time.Sleep(2 * time.Second)
		if err := s.pg.Crash(); err != nil {
			t.Error(err)
		}
		crashed = time.Now()
		time.Sleep(failoverDetection)
		if err := s.standby.Promote(); err != nil {
			t.Error(err)
		}
		promoted = time.Now()
	}()
	wg.Wait()

	// Unavailability: from the first conversion refused to the answer of
	// the last; every conversion sent after that must convert.
	var refused, back []answer
	var firstFail, lastFail time.Time
	for _, c := range convs {
		if c.status == 201 {
			continue
		}
		refused = append(refused, c)
		if firstFail.IsZero() || c.sent.Before(firstFail) {
			firstFail = c.sent
		}
		if done := c.sent.Add(c.took); done.After(lastFail) {
			lastFail = done
		}
	}
	for _, c := range convs {
		if c.sent.After(lastFail) {
			back = append(back, c)
		}
	}
	r.check(t, "conversions refused during the failover answer 503 database_unavailable with the Idempotency-Key to retry with",
		all(refused, func(a answer) bool { return dbUnavailable(a) && a.key != "" }), "%d refused %s", len(refused), summary(refused))
	unavailable := lastFail.Sub(firstFail)
	r.check(t, "conversions succeed again after the standby is promoted, without restarting the api or the worker",
		len(refused) > 0 && all(back, created) && s.api.pid() == apiPid && s.worker.pid() == workerPid && s.api.running() && s.worker.running(),
		"%.1f s unavailable (first refused to last refused; primary lost at +%.1f s, standby promoted %.1f s later, %s detection); afterwards %s; same processes: %v",
		unavailable.Seconds(), crashed.Sub(since).Seconds(), promoted.Sub(crashed).Seconds(), failoverDetection, summary(back), s.api.pid() == apiPid && s.worker.pid() == workerPid)

	// Every receipt on the new primary against what its client was told.
	stored, err := s.storedKeys(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	lost := 0
	for _, c := range convs {
		if c.status == 201 {
			id := receiptID(c)
			acked[id] = true
			if _, ok := stored[id]; !ok {
				lost++
			}
		}
	}
	r.check(t, "every conversion answered 201 is on the new primary", lost == 0 && len(acked) > 0,
		"%d answered 201, %d acknowledged conversions lost; %d receipts stored", len(acked), lost, len(stored))
	// A receipt committed (and replicated) whose answer the crash cut: its
	// client got a 503 with the key, and retrying with it returns that
	// receipt instead of converting twice.
	byKey := map[string]answer{}
	for _, c := range refused {
		byKey[c.key] = c
	}
	unacked, untold, replayed := 0, 0, 0
	var odd string
	for id, key := range stored {
		if acked[id] {
			continue
		}
		unacked++
		c, ok := byKey[key]
		if !ok || !dbUnavailable(c) {
			untold++
			odd = fmt.Sprintf("; e.g. receipt %s, key %q, never answered 503 with it", id, key)
			continue
		}
		if again := convert(ctx, hc, s.apiURL, key); receiptID(again) == id && (again.status == 200 || again.status == 201) {
			replayed++
		} else {
			odd = fmt.Sprintf("; e.g. key %s retried: %d %.200s", key, again.status, again.body)
		}
	}
	r.check(t, "no receipt its client was not told about: each stored but unanswered one was answered 503 with its key, and a retry with the key returns it",
		untold == 0 && replayed == unacked, "%d stored but not answered 201, %d replayed by key%s", unacked, replayed, odd)
	// Every refused conversion, retried with its key, ends as one receipt.
	retried, twice := 0, 0
	for _, c := range refused {
		var again answer
		eventually(10*time.Second, func() bool {
			again = convert(ctx, hc, s.apiURL, c.key)
			return again.status == 200 || again.status == 201
		})
		if again.status == 200 || again.status == 201 {
			retried++
		}
	}
	if after, err := s.storedKeys(ctx, since); err == nil {
		perKey := map[string]int{}
		for _, k := range after {
			perKey[k]++
		}
		for _, n := range perKey {
			if n > 1 {
				twice++
			}
		}
	}
	r.check(t, "every refused conversion retried with its key converts once", retried == len(refused) && twice == 0,
		"%d of %d retries answered a receipt; %d keys with two receipts", retried, len(refused), twice)
	n, problem := s.receiptsAgree(ctx, since)
	r.check(t, "every receipt agrees with the rate rows it names", problem == "" && n > 0, "%d receipts %s", n, problem)

	// The seal chain continues on the new primary, through the worker's
	// reconnected pool.
	after, err := s.seal(ctx, "seal-after-failover")
	var prev string
	if err == nil {
		err = s.db.NewRaw("SELECT prev_seal_hash FROM audit_seals WHERE id = ?", after.SealID).Scan(ctx, &prev)
	}
	r.check(t, "a seal after the failover follows the seal before it", err == nil && after.Sealed && prev == before.SealHash,
		"seal %d (%d rows) follows %q, the seal before was %d %q; %v", after.SealID, after.Rows, short(prev), before.SealID, short(before.SealHash), err)
	out, err := s.starter(ctx, "verify-audit", "--full")
	r.check(t, "starter verify-audit --full is clean on the new primary", err == nil && strings.Contains(out, "verify-audit: ok"), "%s", lastLine(out))
	var recovering bool
	err = s.db.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering)
	r.check(t, "the suite's own pool writes to the promoted standby", err == nil && !recovering, "in recovery: %v, %v", recovering, err)
}

// seal runs the worker's SealAuditLog through Temporal, as the schedule does.
func (s *stack) seal(ctx context.Context, id string) (flow.SealAuditResult, error) {
	var res flow.SealAuditResult
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: auditQueue}, flow.SealAuditLogName)
	if err != nil {
		return res, err
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = run.Get(sctx, &res)
	return res, err
}

// storedKeys maps each receipt created since since to its Idempotency-Key.
func (s *stack) storedKeys(ctx context.Context, since time.Time) (map[string]string, error) {
	s.settle(ctx)
	rows, err := s.db.QueryContext(ctx, "SELECT id::text, coalesce(idempotency_key, '') FROM conversion_audits WHERE created_at >= ?", since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, err
		}
		out[id] = key
	}
	return out, rows.Err()
}

// receiptID is the id of the receipt an answer carries, or "".
func receiptID(a answer) string {
	var c struct {
		ID string `json:"id"`
	}
	json.Unmarshal(a.body, &c)
	return c.ID
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// writeFailoverReport prints the experiment's table and writes it to
// FAULTS_FAILOVER_REPORT (default .data/faults-failover.txt), apart from
// TestFaults' table.
func writeFailoverReport(t *testing.T, s *stack, rep *report) {
	var b strings.Builder
	b.WriteString("experiment | invariant | observed | ok\n")
	for _, row := range rep.rows {
		b.WriteString(strings.Join(row[:], " | ") + "\n")
	}
	fmt.Print("\n" + b.String())
	path := os.Getenv("FAULTS_FAILOVER_REPORT")
	if path == "" {
		path = filepath.Join(testenv.RepoRoot(t), ".data", "faults-failover.txt")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Logf("write the report: %v", err)
	} else {
		fmt.Printf("failover report written to %s (process logs in %s)\n", path, s.dir)
	}
}
