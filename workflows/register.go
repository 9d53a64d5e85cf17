package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/flow"
)

// Register puts every CES workflow and the activities on one worker
// (tests, and a single-queue deployment).
func Register(r worker.Registry, a *activities.Activities) {
	RegisterIngest(r, a)
	registerAudit(r)
}

// RegisterIngest puts ingestion and backfills on a worker (the ingest
// task queue) with the activities.
func RegisterIngest(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(IngestRates, workflow.RegisterOptions{Name: flow.IngestRatesName})
	r.RegisterWorkflowWithOptions(BackfillRates, workflow.RegisterOptions{Name: flow.BackfillRatesName})
	r.RegisterActivity(a)
}

// RegisterAudit puts audit sealing and verification on a worker (the
// audit task queue) with the activities, so that they scale and fail
// apart from ingestion.
func RegisterAudit(r worker.Registry, a *activities.Activities) {
	registerAudit(r)
	r.RegisterActivity(a)
}

func registerAudit(r worker.Registry) {
	r.RegisterWorkflowWithOptions(SealAuditLog, workflow.RegisterOptions{Name: flow.SealAuditLogName})
	r.RegisterWorkflowWithOptions(VerifyAuditLog, workflow.RegisterOptions{Name: flow.VerifyAuditLogName})
}
