package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// SealAuditResult reports what SealAudit appended.
type SealAuditResult struct {
	Sealed   bool   `json:"sealed"`
	SealID   int64  `json:"seal_id,omitempty"`
	Rows     int64  `json:"rows"`
	SealHash string `json:"seal_hash,omitempty"`
}

// SealAudit appends one seal to the audit chain covering the audit rows of
// every transaction completed since the previous seal. Retrying it is
// safe: a repeat finds nothing new, or seals what arrived since.
func (a *Activities) SealAudit(ctx context.Context) (SealAuditResult, error) {
	info := activity.GetInfo(ctx)
	seal, sealed, err := a.Store.Seal(ctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, a.now())
	if err != nil || !sealed {
		return SealAuditResult{}, err
	}
	activity.GetLogger(ctx).Info("audit log sealed", "seal_id", seal.ID, "rows", seal.RowCount, "first_seq", seal.FirstSeq, "last_seq", seal.LastSeq)
	return SealAuditResult{Sealed: true, SealID: seal.ID, Rows: seal.RowCount, SealHash: seal.SealHash}, nil
}

func (a *Activities) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
