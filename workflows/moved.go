package workflows

import "ces/internal/flow"

// These names moved to ces/internal/flow, the contract that code starting
// workflows shares with the worker. They stay only until bench/ and the
// fault suite, reworked apart during issue 23, import flow; then this file
// goes.

// Deprecated: use flow.IngestRatesName, flow.BackfillRatesName and
// flow.SealAuditLogName.
const (
	IngestRatesName   = flow.IngestRatesName
	BackfillRatesName = flow.BackfillRatesName
	SealAuditLogName  = flow.SealAuditLogName
)

// IngestInput is flow.IngestInput.
//
// Deprecated: use flow.IngestInput.
type IngestInput = flow.IngestInput

// IngestResult is flow.IngestResult.
//
// Deprecated: use flow.IngestResult.
type IngestResult = flow.IngestResult

// BackfillInput is flow.BackfillInput.
//
// Deprecated: use flow.BackfillInput.
type BackfillInput = flow.BackfillInput

// BackfillID is flow.BackfillID.
//
// Deprecated: use flow.BackfillID.
func BackfillID(in flow.BackfillInput) string { return flow.BackfillID(in) }
