package faults_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"ces/internal/ingestion"
)

// scheduledRuns lists the schedule's completed runs by scheduled time.
func (s *stack) scheduledRuns(ctx context.Context) map[time.Time]time.Time {
	out := map[time.Time]time.Time{}
	prefix := ingestion.WorkflowIDPrefix("ecb") + "-"
	resp, err := s.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default", PageSize: 1000,
		Query: "WorkflowType = 'IngestRates' AND ExecutionStatus = 'Completed'",
	})
	if err != nil {
		return out
	}
	for _, e := range resp.GetExecutions() {
		id := e.GetExecution().GetWorkflowId()
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		if at, err := time.Parse(time.RFC3339, strings.TrimPrefix(id, prefix)); err == nil {
			out[at] = e.GetCloseTime().AsTime()
		}
	}
	return out
}

func expTemporalRestart(t *testing.T, s *stack, r *reporter) {
	ctx := context.Background()
	h := s.schedule(ctx)
	if err := h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "fault suite: temporal-restart"}); err != nil {
		t.Fatal(err)
	}
	defer h.Pause(context.Background(), client.SchedulePauseOptions{Note: "fault suite: done with temporal-restart"})
	before := time.Now()
	runs := eventually(20*time.Second, func() bool {
		for at := range s.scheduledRuns(ctx) {
			if at.After(before.Add(-time.Second)) {
				return true
			}
		}
		return false
	})
	if !runs {
		t.Fatalf("the 5 s schedule ran nothing in 20 s:\n%s", s.worker.tail())
	}
	workerPid := s.worker.pid()
	since := time.Now()
	hc := httpClient(10 * time.Second)
	var lookups, convs []answer
	var wg sync.WaitGroup
	wg.Add(2)
	lctx, stopLoad := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		lookups = s.lookupLoad(lctx, hc, 10, 100*time.Millisecond, 2*time.Minute)
	}()
	go func() {
		defer wg.Done()
		convs = s.conversionLoad(lctx, hc, r.name, 2, 250*time.Millisecond, 2*time.Minute)
	}()
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	s.temporal.proc.kill()
	time.Sleep(8 * time.Second)
	restarted := time.Now()
	s.temporal.start(t)
	var caught time.Time
	var closed time.Time
	caughtUp := eventually(60*time.Second, func() bool {
		for at, c := range s.scheduledRuns(ctx) {
			if at.After(killed) && at.Before(restarted) {
				caught, closed = at, c
				return true
			}
		}
		return false
	})
	stopLoad()
	wg.Wait()
	r.check(t, "lookups unaffected while Temporal is down and restarting", all(lookups, func(a answer) bool { return a.status == 200 }),
		"%d lookups %s", len(lookups), summary(lookups))
	obs, ok := s.accountConversions(ctx, since, convs)
	r.check(t, "conversions unaffected, each stored once", ok && all(convs, created), "%s", obs)
	r.check(t, "the schedule catches up: a run due while Temporal was down runs after the restart", caughtUp,
		"Temporal down %s–%s; run scheduled %s completed %s", killed.Format("15:04:05"), restarted.Format("15:04:05"),
		caught.Format("15:04:05"), closed.Local().Format("15:04:05"))
	r.check(t, "the worker reconnects by itself", caughtUp && s.worker.running() && s.worker.pid() == workerPid,
		"the same worker process (pid %d) ran the caught-up run", workerPid)
}
