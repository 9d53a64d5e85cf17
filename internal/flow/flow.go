// Package flow is the contract between whoever starts a workflow and the
// worker that runs it: workflow type names, workflow and schedule ids,
// arguments, results and search attributes. The API, the admin console
// and the starter import it instead of workflows and activities, so those
// binaries link neither workflow code nor a provider adapter.
//
// Everything here travels through Temporal as JSON, in histories that
// outlive a deployment: a change to a field's name or meaning is a
// change to running workflows (see workflows/replay_test.go).
package flow

import "go.temporal.io/sdk/temporal"

// Search attributes set by the ingestion and backfill workflows,
// registered on the Temporal server (make up, make test and
// docker-compose do it) so operators can filter ingestion history:
// temporal workflow list --query "FxProvider='ecb'".
var (
	FxProviderKey    = temporal.NewSearchAttributeKeyKeyword("FxProvider")
	RatesInsertedKey = temporal.NewSearchAttributeKeyInt64("RatesInserted")
	// RatesQuarantinedKey counts the rates the quality gate held back:
	// temporal workflow list --query "RatesQuarantined > 0".
	RatesQuarantinedKey = temporal.NewSearchAttributeKeyInt64("RatesQuarantined")
)
