package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/flow"
)

// One transaction that reads the rows since the last seal and appends one
// row; on a busy log that is seconds. Retried briefly: the next scheduled
// run seals anything a failed one left.
var sealOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    2 * time.Minute,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// SealAuditLog appends one seal to the audit chain.
func SealAuditLog(ctx workflow.Context) (flow.SealAuditResult, error) {
	var a *activities.Activities
	var res flow.SealAuditResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sealOptions), a.SealAudit).Get(ctx, &res)
	return res, err
}

// A verification reads the whole log at worst (a million rows in well
// under a minute); it heartbeats, so a lost worker is noticed in 30 s and
// another one starts it again. It only reads and records, so a retry is
// a fresh run.
var verifyOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Minute,
	HeartbeatTimeout:    30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
		MaximumAttempts:    5,
	},
}

// VerifyAuditLog runs verify-audit on a worker (the admin console's
// verify button starts it).
func VerifyAuditLog(ctx workflow.Context, in flow.VerifyAuditInput) (flow.VerifyAuditResult, error) {
	var a *activities.Activities
	var res flow.VerifyAuditResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, verifyOptions), a.VerifyAudit, in).Get(ctx, &res)
	return res, err
}
