package ingestion

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"ces/internal/flow"
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
	// Interval, or else Cron (UTC), is when the schedule fires.
	Interval time.Duration
	Cron     []string
}

func (o ScheduleOptions) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        WorkflowIDPrefix(o.Provider),
		Workflow:  flow.IngestRatesName,
		Args:      []any{flow.IngestInput{Provider: o.Provider}},
		TaskQueue: o.TaskQueue,
		// A run may not outlive the gap to the next one: overlap is skipped anyway.
		WorkflowExecutionTimeout: max(o.Interval, 35*time.Minute),
		TypedSearchAttributes:    temporal.NewSearchAttributes(flow.FxProviderKey.ValueSet(o.Provider)),
	}
}

func (o ScheduleOptions) spec() client.ScheduleSpec {
	if o.Interval > 0 {
		return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: o.Interval}}}
	}
	return client.ScheduleSpec{CronExpressions: o.Cron}
}

// EnsureSchedule creates the ingestion schedule, or brings an existing one
// up to date (cadence, action, policies). A schedule that Reconcile paused
// because its provider had left the configuration is resumed; one an
// operator paused stays paused. It reports whether it created the schedule.
func EnsureSchedule(ctx context.Context, c client.Client, o ScheduleOptions) (created bool, err error) {
	id := o.ID
	if id == "" {
		id = ScheduleID(o.Provider)
	}
	created, err = ensure(ctx, c, id, o.spec(), o.action())
	if err != nil || created {
		return created, err
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	d, err := h.Describe(ctx)
	if err != nil {
		return false, fmt.Errorf("schedule %s: describe: %w", id, err)
	}
	if st := d.Schedule.State; st != nil && st.Paused && strings.HasPrefix(st.Note, unconfiguredNote) {
		if err := h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "resumed by starter schedule: " + o.Provider + " is configured again"}); err != nil {
			return false, fmt.Errorf("schedule %s: resume: %w", id, err)
		}
	}
	return false, nil
}

// unconfiguredNote starts the note of a schedule Reconcile paused.
const unconfiguredNote = "paused by starter schedule: "

// Reconcile pauses, with a note saying why, the ingestion schedule
// (prefix + name; prefix "" means ScheduleID's) of every provider in known
// but not in configured, so a provider removed from FX_PROVIDERS stops
// firing (and failing) without losing its history. Schedules of names it
// does not know are left alone. It returns the schedule ids it paused.
func Reconcile(ctx context.Context, c client.Client, prefix string, known, configured []string) ([]string, error) {
	if prefix == "" {
		prefix = ScheduleID("")
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var paused []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return paused, fmt.Errorf("list schedules: %w", err)
		}
		name, ok := strings.CutPrefix(e.ID, prefix)
		if !ok || !slices.Contains(known, name) || slices.Contains(configured, name) || e.Paused {
			continue
		}
		note := unconfiguredNote + name + " is no longer in FX_PROVIDERS (" + strings.Join(configured, ",") + ")"
		if err := c.ScheduleClient().GetHandle(ctx, e.ID).Pause(ctx, client.SchedulePauseOptions{Note: note}); err != nil {
			return paused, fmt.Errorf("schedule %s: pause: %w", e.ID, err)
		}
		paused = append(paused, e.ID)
	}
	return paused, nil
}

// EnsureSealSchedule creates or updates the schedule that runs
// SealAuditLog every SealInterval. id overrides SealScheduleID (tests).
func EnsureSealSchedule(ctx context.Context, c client.Client, id, taskQueue string) (bool, error) {
	if id == "" {
		id = flow.SealScheduleID
	}
	return ensure(ctx, c, id,
		client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: flow.SealInterval}}},
		&client.ScheduleWorkflowAction{
			ID: "seal-audit-log", Workflow: flow.SealAuditLogName, TaskQueue: taskQueue,
			WorkflowExecutionTimeout: 15 * time.Minute,
		})
}

// EnsurePublisherHealthSchedule creates or updates the schedule that runs
// CheckPublisherHealth every PublisherHealthInterval on the ingest queue
// (its workers hold the configured providers and read their rates). id
// overrides PublisherHealthScheduleID (tests).
func EnsurePublisherHealthSchedule(ctx context.Context, c client.Client, id, taskQueue string) (bool, error) {
	if id == "" {
		id = flow.PublisherHealthScheduleID
	}
	return ensure(ctx, c, id,
		client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: flow.PublisherHealthInterval}}},
		&client.ScheduleWorkflowAction{
			ID: "publisher-health", Workflow: flow.CheckPublisherHealthName, TaskQueue: taskQueue,
			Args:                     []any{flow.CheckPublisherHealthInput{}},
			WorkflowExecutionTimeout: flow.PublisherHealthInterval,
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

// StartBackfill starts a BackfillRates workflow for the range (or
// attaches to the one already running for the same range) and returns
// its run. It is apart from the live schedule, which keeps running.
func StartBackfill(ctx context.Context, c client.Client, taskQueue string, in flow.BackfillInput) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       flow.BackfillID(in),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(flow.FxProviderKey.ValueSet(in.Provider)),
	}, flow.BackfillRatesName, in)
	if err != nil {
		return nil, fmt.Errorf("start backfill %s: %w", flow.BackfillID(in), err)
	}
	return run, nil
}
