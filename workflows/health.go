package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/flow"
)

// A check reads one index walk of publication instants per configured
// publisher (a few hundred each) and inserts one row apiece: seconds.
// Retried briefly: the next scheduled check, 15 minutes on, judges again.
var healthOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    2 * time.Minute,
	ScheduleToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// CheckPublisherHealth judges each configured publisher's health at one
// instant (policy.HealthRule), records the verdicts and sets the worker's
// gauges. The instant is fixed here, so every attempt of the activity
// judges, and records, the same one.
func CheckPublisherHealth(ctx workflow.Context, in flow.CheckPublisherHealthInput) (flow.CheckPublisherHealthResult, error) {
	if in.At.IsZero() {
		in.At = workflow.Now(ctx).UTC().Truncate(time.Second)
	}
	var a *activities.Activities
	var res flow.CheckPublisherHealthResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, healthOptions), a.CheckPublisherHealth, in).Get(ctx, &res)
	return res, err
}
