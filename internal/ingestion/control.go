// Package ingestion is the client side of CES's Temporal workflows, for
// the starter, the API and the admin console: schedules (one per
// provider, reconciled with the configuration), backfills, and the state
// of ingestion. Nothing here runs on a worker.
package ingestion

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"ces/internal/flow"
)

// Control operates one provider's ingestion through Temporal: the
// schedule's state, its recent runs, and trigger, pause and resume.
type Control struct {
	client     client.Client
	provider   string
	scheduleID string
}

// NewControl returns a Control of provider's schedule (scheduleID empty:
// ScheduleID(provider)).
func NewControl(c client.Client, provider, scheduleID string) *Control {
	if scheduleID == "" {
		scheduleID = ScheduleID(provider)
	}
	return &Control{client: c, provider: provider, scheduleID: scheduleID}
}

// Run is one IngestRates execution as the console lists it.
type Run struct {
	WorkflowID string
	RunID      string
	Status     string
	Start      time.Time
	Close      time.Time
}

// IngestionStatus is what the dashboard shows of ingestion.
type IngestionStatus struct {
	ScheduleID string
	Paused     bool
	Note       string
	NextRuns   []time.Time
	Runs       []Run
	LastError  string
}

// Status describes the schedule and the newest runs.
func (c *Control) Status(ctx context.Context) (IngestionStatus, error) {
	st := IngestionStatus{ScheduleID: c.scheduleID}
	d, err := c.client.ScheduleClient().GetHandle(ctx, c.scheduleID).Describe(ctx)
	if err != nil {
		return st, fmt.Errorf("schedule %s: describe: %w", c.scheduleID, err)
	}
	if d.Schedule.State != nil {
		st.Paused, st.Note = d.Schedule.State.Paused, d.Schedule.State.Note
	}
	st.NextRuns = d.Info.NextActionTimes
	execs, err := recentRuns(ctx, c.client, c.provider, 10)
	if err != nil {
		return st, err
	}
	for _, ex := range execs {
		r := Run{WorkflowID: ex.Execution.WorkflowId, RunID: ex.Execution.RunId, Status: statusName(ex.Status), Start: ex.StartTime.AsTime()}
		if ex.CloseTime != nil {
			r.Close = ex.CloseTime.AsTime()
		}
		st.Runs = append(st.Runs, r)
	}
	st.LastError = LastIngestionError(ctx, c.client, c.provider)
	return st, nil
}

// recentRuns lists the provider's newest IngestRates runs, newest first.
// Visibility stores without ORDER BY support (SQLite in the dev server)
// return an unspecified order, so the page is sorted here.
func recentRuns(ctx context.Context, c client.Client, provider string, n int) ([]*workflowpb.WorkflowExecutionInfo, error) {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		PageSize: 100,
		Query:    fmt.Sprintf("WorkflowType='%s' AND FxProvider='%s'", flow.IngestRatesName, provider),
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	execs := resp.Executions
	sort.Slice(execs, func(i, j int) bool { return execs[i].StartTime.AsTime().After(execs[j].StartTime.AsTime()) })
	if len(execs) > n {
		execs = execs[:n]
	}
	return execs, nil
}

func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "Running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "Completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "Failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TimedOut"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "Terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "Canceled"
	}
	return s.String()
}

// Trigger runs the schedule's action now.
func (c *Control) Trigger(ctx context.Context) error {
	if err := c.client.ScheduleClient().GetHandle(ctx, c.scheduleID).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		return fmt.Errorf("schedule %s: trigger: %w", c.scheduleID, err)
	}
	return nil
}

// Pause stops the schedule, noting why.
func (c *Control) Pause(ctx context.Context, note string) error {
	if note == "" {
		return errors.New("a reason is required to pause ingestion")
	}
	if err := c.client.ScheduleClient().GetHandle(ctx, c.scheduleID).Pause(ctx, client.SchedulePauseOptions{Note: note}); err != nil {
		return fmt.Errorf("schedule %s: pause: %w", c.scheduleID, err)
	}
	return nil
}

// Resume restarts the schedule, noting why.
func (c *Control) Resume(ctx context.Context, note string) error {
	if err := c.client.ScheduleClient().GetHandle(ctx, c.scheduleID).Unpause(ctx, client.ScheduleUnpauseOptions{Note: note}); err != nil {
		return fmt.Errorf("schedule %s: resume: %w", c.scheduleID, err)
	}
	return nil
}
