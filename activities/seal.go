package activities

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/flow"
	"ces/internal/store"
	"ces/internal/verifier"
)

// TypeAnchorConflict is the (non-retryable) error type of a seal whose
// anchored copy differs from the database's: one of them was tampered
// with, and retrying cannot change that.
const TypeAnchorConflict = "AnchorConflict"

// SealAudit appends one signed seal to the audit chain covering the audit
// rows of every transaction completed since the previous seal, and
// anchors it outside PostgreSQL. Retrying it is safe: a repeat anchors
// what an earlier attempt committed, then finds nothing new or seals what
// arrived since, so no window is ever skipped.
func (a *Activities) SealAudit(ctx context.Context) (flow.SealAuditResult, error) {
	if a.Signer == nil || a.Anchor == nil {
		return flow.SealAuditResult{}, temporal.NewNonRetryableApplicationError("this worker has no signing key or anchor", "SealingNotConfigured", nil)
	}
	if err := a.PublishSigningKey(ctx); err != nil {
		return flow.SealAuditResult{}, err
	}
	made, forgotten, err := MaintainAuditLog(ctx, a.Audit, a.KeyRetention)
	if err != nil {
		return flow.SealAuditResult{}, err
	}
	if len(made) > 0 || forgotten > 0 {
		activity.GetLogger(ctx).Info("audit log storage kept", "partitions_made", strings.Join(made, ","), "idempotency_keys_forgotten", forgotten)
	}
	res := flow.SealAuditResult{}
	n, err := a.anchorCommitted(ctx)
	res.Anchored += n
	if err != nil {
		return res, err
	}
	info := activity.GetInfo(ctx)
	seal, sealed, err := a.Audit.Seal(ctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, a.now(), a.Signer)
	if err != nil || !sealed {
		return res, err
	}
	if err := a.anchor(ctx, seal); err != nil {
		return res, err
	}
	res.Anchored++
	activity.GetLogger(ctx).Info("audit log sealed", "seal_id", seal.ID, "rows", seal.RowCount, "first_seq", seal.FirstSeq, "last_seq", seal.LastSeq, "key_id", seal.KeyID)
	res.Sealed, res.SealID, res.Rows, res.SealHash = true, seal.ID, seal.RowCount, seal.SealHash
	return res, nil
}

// MaintainAuditLog keeps the audit log's storage in shape and says what
// it did: the monthly partitions of conversion_audits made
// store.AuditPartitionsAhead months ahead, and idempotency keys older than
// retention (zero: none) forgotten. Sealing runs it, and the worker at
// start, so a deployment that seals never writes a receipt into the
// default partition. Both steps are idempotent. (A function, not a
// method: every method of Activities is registered as an activity.)
func MaintainAuditLog(ctx context.Context, st AuditStore, retention time.Duration) (made []string, forgotten int64, err error) {
	if made, err = st.MakeAuditPartitions(ctx, store.AuditPartitionsAhead); err != nil {
		return nil, 0, err
	}
	if retention > 0 {
		forgotten, err = st.PruneIdempotencyKeys(ctx, retention)
	}
	return made, forgotten, err
}

// PublishSigningKey records the signer's public key in the anchor (which
// is what verification trusts) and in the database (which the API
// publishes). The worker calls it at start, and every seal run again.
func (a *Activities) PublishSigningKey(ctx context.Context) error {
	pub := a.Signer.PublicKey()
	if err := a.Anchor.PutKey(ctx, pub); err != nil {
		return a.anchorError(err)
	}
	b, err := audit.EncodePublicKey(pub)
	if err != nil {
		return err
	}
	return a.Audit.RegisterSigningKey(ctx, a.Signer.KeyID(), b)
}

// anchorCommitted anchors the seals after the anchor's newest.
func (a *Activities) anchorCommitted(ctx context.Context) (int, error) {
	latest, _, err := a.Anchor.Latest(ctx)
	if err != nil {
		return 0, err
	}
	seals, err := a.Audit.Seals(ctx, latest)
	if err != nil {
		return 0, err
	}
	for i, s := range seals {
		if err := a.anchor(ctx, s); err != nil {
			return i, err
		}
	}
	return len(seals), nil
}

func (a *Activities) anchor(ctx context.Context, s audit.Seal) error {
	if err := a.Anchor.Put(ctx, s); err != nil {
		return a.anchorError(err)
	}
	return nil
}

func (a *Activities) anchorError(err error) error {
	if errors.Is(err, anchor.ErrConflict) {
		return temporal.NewNonRetryableApplicationError(err.Error(), TypeAnchorConflict, err)
	}
	return err
}

// VerifyAudit runs verify-audit on the worker, heartbeating its progress,
// and records the outcome (audit_verifications). A finding is a result,
// not an error; an error means the check could not run.
func (a *Activities) VerifyAudit(ctx context.Context, in flow.VerifyAuditInput) (flow.VerifyAuditResult, error) {
	if a.Anchor == nil {
		return flow.VerifyAuditResult{}, temporal.NewNonRetryableApplicationError("this worker has no anchor", "SealingNotConfigured", nil)
	}
	last := time.Now()
	rep, v, err := verifier.Run(ctx, a.Audit, a.Anchor, a.now, verifier.Options{
		Full: in.Full, StartedBy: in.StartedBy,
		Progress: func(done, total int64) {
			if time.Since(last) > time.Second {
				activity.RecordHeartbeat(ctx, done, total)
				last = time.Now()
			}
		},
	})
	if err != nil {
		return flow.VerifyAuditResult{}, err
	}
	return flow.VerifyAuditResult{VerificationID: v.ID, Rows: rep.Rows, Seals: rep.Seals, Unsealed: rep.Unsealed, Problem: rep.Problem}, nil
}

func (a *Activities) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
