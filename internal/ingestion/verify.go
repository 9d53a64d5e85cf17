package ingestion

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/flow"
)

// Verifications starts audit verifications on the workers, for the admin
// console: the check reads the whole log at worst, so it runs as a
// workflow, not inside an HTTP request.
type Verifications struct {
	client    client.Client
	taskQueue string
}

// NewVerifications returns a Verifications starting runs on taskQueue.
func NewVerifications(c client.Client, taskQueue string) *Verifications {
	return &Verifications{client: c, taskQueue: taskQueue}
}

// VerifyWorkflowPrefix starts the id of every VerifyAuditLog run.
const VerifyWorkflowPrefix = "verify-audit-log/"

// Start starts one VerifyAuditLog run and returns its ids.
func (v *Verifications) Start(ctx context.Context, startedBy string, full bool) (workflowID, runID string, err error) {
	id := VerifyWorkflowPrefix + time.Now().UTC().Format("20060102T150405.000000Z")
	run, err := v.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: v.taskQueue, WorkflowExecutionTimeout: 2 * time.Hour,
	}, flow.VerifyAuditLogName, flow.VerifyAuditInput{Full: full, StartedBy: startedBy})
	if err != nil {
		return "", "", fmt.Errorf("ingestion: start %s: %w", id, err)
	}
	return id, run.GetRunID(), nil
}

// Wait waits for a run started by Start and returns its result.
func (v *Verifications) Wait(ctx context.Context, workflowID, runID string) (flow.VerifyAuditResult, error) {
	var res flow.VerifyAuditResult
	if err := v.client.GetWorkflow(ctx, workflowID, runID).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("ingestion: %s: %w", workflowID, err)
	}
	return res, nil
}
