package flow

import "time"

// SealAuditLogName is the workflow type of the audit sealer.
const SealAuditLogName = "SealAuditLog"

// SealScheduleID is the id of the schedule that seals the audit log.
const SealScheduleID = "seal-audit-log"

// SealInterval is how often the audit log is sealed.
const SealInterval = time.Minute

// SealAuditResult reports what one seal appended.
type SealAuditResult struct {
	Sealed   bool   `json:"sealed"`
	SealID   int64  `json:"seal_id,omitempty"`
	Rows     int64  `json:"rows"`
	SealHash string `json:"seal_hash,omitempty"`
	// Anchored counts the seals written to the anchor, this one and any an
	// earlier attempt committed but did not anchor.
	Anchored int `json:"anchored"`
}

// VerifyAuditLogName is the workflow type of an audit verification.
const VerifyAuditLogName = "VerifyAuditLog"

// VerifyAuditInput says how much a verification checks and who asked.
type VerifyAuditInput struct {
	Full      bool   `json:"full"`
	StartedBy string `json:"started_by"`
}

// VerifyAuditResult is the recorded outcome of a verification. A finding
// is a Problem, not an error.
type VerifyAuditResult struct {
	VerificationID int64  `json:"verification_id"`
	Rows           int64  `json:"rows"`
	Seals          int64  `json:"seals"`
	Unsealed       int64  `json:"unsealed"`
	Problem        string `json:"problem,omitempty"`
}
