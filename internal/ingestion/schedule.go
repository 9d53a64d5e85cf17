package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// ScheduleID is the id of the Temporal Schedule that ingests provider's rates.
func ScheduleID(provider string) string { return "ingest-rates-" + provider }

// WorkflowIDPrefix starts the id of every scheduled ingestion of provider
// (Temporal appends the scheduled time), so ids say what the run is.
func WorkflowIDPrefix(provider string) string { return "ingest-rates/" + provider }

// CatchupWindow is how late a scheduled run may still start after the
// server was down: a run missed by more is skipped, and a backfill is the
// way to recover a longer gap.
const CatchupWindow = 30 * time.Minute

// ScheduleOptions says what the ingestion schedule runs.
type ScheduleOptions struct {
	// ID overrides ScheduleID(Provider); tests sharing a server use it.
	ID        string
	Provider  string
	TaskQueue string
	Interval  time.Duration
}

func (o ScheduleOptions) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        WorkflowIDPrefix(o.Provider),
		Workflow:  IngestRatesName,
		Args:      []any{IngestInput{Provider: o.Provider}},
		TaskQueue: o.TaskQueue,
		// A run may not outlive its interval: overlap is skipped anyway.
		WorkflowExecutionTimeout: max(o.Interval, 35*time.Minute),
		TypedSearchAttributes:    temporal.NewSearchAttributes(FxProviderKey.ValueSet(o.Provider)),
	}
}

func (o ScheduleOptions) spec() client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: o.Interval}}}
}

// EnsureSchedule creates the ingestion schedule, or brings an existing one
// up to date (interval, action, policies) without touching its paused
// state. It reports whether it created the schedule.
func EnsureSchedule(ctx context.Context, c client.Client, o ScheduleOptions) (created bool, err error) {
	id := o.ID
	if id == "" {
		id = ScheduleID(o.Provider)
	}
	return ensure(ctx, c, id, o.spec(), o.action())
}

// EnsureSealSchedule creates or updates the schedule that runs
// SealAuditLog every SealInterval. id overrides SealScheduleID (tests).
func EnsureSealSchedule(ctx context.Context, c client.Client, id, taskQueue string) (bool, error) {
	if id == "" {
		id = SealScheduleID
	}
	return ensure(ctx, c, id,
		client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: SealInterval}}},
		&client.ScheduleWorkflowAction{
			ID: "seal-audit-log", Workflow: SealAuditLogName, TaskQueue: taskQueue,
			WorkflowExecutionTimeout: 15 * time.Minute,
		})
}

func ensure(ctx context.Context, c client.Client, id string, spec client.ScheduleSpec, action *client.ScheduleWorkflowAction) (bool, error) {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          spec,
		Action:        action,
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: CatchupWindow,
		Note:          "created by starter schedule",
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("schedule %s: create: %w", id, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = action
			s.Policy = &client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: CatchupWindow}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("schedule %s: update: %w", id, err)
	}
	return false, nil
}

// Backfill asks the schedule to run every interval between from and to as
// if it had been running then; each such run ingests its own day (see
// backfillAfter). Overlapping runs are allowed so a long range does not
// collapse into one.
func Backfill(ctx context.Context, c client.Client, provider string, from, to time.Time) error {
	h := c.ScheduleClient().GetHandle(ctx, ScheduleID(provider))
	if err := h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{
		Start: from, End: to, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	}}}); err != nil {
		return fmt.Errorf("schedule %s: backfill %s..%s: %w", ScheduleID(provider), from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return nil
}
