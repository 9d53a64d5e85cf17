package workflows

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/internal/flow"
)

// TestReplayRecordedIngestion replays the history of a real IngestRates run
// (recorded from `make up` with the file provider) against the current
// code: a change that makes the workflow non-deterministic for runs
// already in flight fails here instead of in production.
func TestReplayRecordedIngestion(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(IngestRates, workflow.RegisterOptions{Name: flow.IngestRatesName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/ingest-rates-history.json"); err != nil {
		t.Fatalf("replay: %v", err)
	}
}
