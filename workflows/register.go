package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
)

// Register puts every CES workflow and the activities on a worker.
func Register(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(IngestRates, workflow.RegisterOptions{Name: IngestRatesName})
	r.RegisterWorkflowWithOptions(SealAuditLog, workflow.RegisterOptions{Name: SealAuditLogName})
	r.RegisterWorkflowWithOptions(VerifyAuditLog, workflow.RegisterOptions{Name: VerifyAuditLogName})
	r.RegisterWorkflowWithOptions(BackfillRates, workflow.RegisterOptions{Name: BackfillRatesName})
	r.RegisterActivity(a)
}
