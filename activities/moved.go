package activities

import "ces/internal/flow"

// These names moved to ces/internal/flow, the contract that code starting
// workflows shares with the worker. They stay only until bench/ and the
// fault suite, reworked apart during issue 23, import flow; then this file
// goes.

// BackfillResult is flow.BackfillResult.
//
// Deprecated: use flow.BackfillResult.
type BackfillResult = flow.BackfillResult

// SealAuditResult is flow.SealAuditResult.
//
// Deprecated: use flow.SealAuditResult.
type SealAuditResult = flow.SealAuditResult
