package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/internal/flow"
)

// recorded holds the history of a real run of every workflow, run by
// `make up` and exported with `temporal workflow show --output json` (see
// the README's Tests section).
var recorded = []struct {
	file     string
	workflow string
	fn       any
}{
	// IngestRates before the quality gate's GetVersion, and after it.
	{"ingest-rates-history.json", flow.IngestRatesName, IngestRates},
	{"ingest-rates-quality-gate-history.json", flow.IngestRatesName, IngestRates},
	{"backfill-rates-history.json", flow.BackfillRatesName, BackfillRates},
	{"seal-audit-log-history.json", flow.SealAuditLogName, SealAuditLog},
	{"verify-audit-log-history.json", flow.VerifyAuditLogName, VerifyAuditLog},
	// Recorded by TestPublisherHealthLateThenSilent with
	// CES_RECORD_HEALTH_HISTORY=check-publisher-health-history.json.
	{"check-publisher-health-history.json", flow.CheckPublisherHealthName, CheckPublisherHealth},
}

// TestReplayRecordedHistories replays each recorded history against the
// current code: a change that makes a workflow non-deterministic for runs
// already in flight fails here instead of in production.
func TestReplayRecordedHistories(t *testing.T) {
	for _, h := range recorded {
		t.Run(h.file, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(h.fn, workflow.RegisterOptions{Name: h.workflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", h.file)); err != nil {
				t.Fatalf("replay %s: %v", h.file, err)
			}
		})
	}
}
