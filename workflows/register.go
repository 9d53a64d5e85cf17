package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/activities"
	"ces/internal/flow"
)

// Register puts every CES workflow and every activity on one worker
// (tests, and a single-queue deployment).
func Register(r worker.Registry, a *activities.Activities) {
	RegisterIngest(r, a)
	RegisterAudit(r, a)
}

// RegisterIngest puts ingestion, backfills and publisher health checks
// on a worker (the ingest task queue) with the activities they run and
// no others, so that a worker offers only what its queue schedules (a
// worker serving only this queue has no signing key to seal with).
func RegisterIngest(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(IngestRates, workflow.RegisterOptions{Name: flow.IngestRatesName})
	r.RegisterWorkflowWithOptions(BackfillRates, workflow.RegisterOptions{Name: flow.BackfillRatesName})
	r.RegisterActivity(a.FetchRates)
	r.RegisterActivity(a.InsertRates)
	r.RegisterActivity(a.CacheRates)
	r.RegisterActivity(a.BackfillRates)
	r.RegisterWorkflowWithOptions(CheckPublisherHealth, workflow.RegisterOptions{Name: flow.CheckPublisherHealthName})
	r.RegisterActivity(a.CheckPublisherHealth)
}

// RegisterAudit puts audit sealing and verification on a worker (the
// audit task queue) with the activities they run, so that they scale and
// fail apart from ingestion.
func RegisterAudit(r worker.Registry, a *activities.Activities) {
	r.RegisterWorkflowWithOptions(SealAuditLog, workflow.RegisterOptions{Name: flow.SealAuditLogName})
	r.RegisterWorkflowWithOptions(VerifyAuditLog, workflow.RegisterOptions{Name: flow.VerifyAuditLogName})
	r.RegisterActivity(a.SealAudit)
	r.RegisterActivity(a.VerifyAudit)
}
