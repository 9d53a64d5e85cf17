// Package verifier runs verify-audit: the database's audit log checked
// against itself, its signatures and the anchor outside PostgreSQL, with
// the outcome recorded. The starter and the worker's VerifyAudit activity
// both run it.
package verifier

import (
	"context"
	"fmt"
	"time"

	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/store"
)

// AnchorGrace is how long a new seal may be missing from the anchor: the
// sealer anchors right after its commit, and its next run (a minute
// later, retried for up to ten) anchors what a failed attempt left.
const AnchorGrace = 15 * time.Minute

// Options shape one run.
type Options struct {
	// Full re-checks every row instead of resuming after the newest clean run.
	Full bool
	// Pinned, when not empty, are the only keys trusted to have signed
	// seals; otherwise the anchor's keys are.
	Pinned audit.Keys
	// StartedBy is recorded with the outcome (a user, "starter", a workflow id).
	StartedBy string
	Progress  func(done, total int64)
}

// Store verifies the sealed log and records each verification
// (*store.Audit).
type Store interface {
	VerifyAudit(ctx context.Context, opts store.VerifyOptions) (store.VerifyReport, error)
	RecordVerification(ctx context.Context, rep store.VerifyReport, full bool, startedBy string, at time.Time) (store.Verification, error)
}

// Run verifies the audit log and records the outcome. An error means the
// check could not run (database or anchor unreachable); a finding is in
// the report's Problem.
func Run(ctx context.Context, st Store, sink anchor.Sink, now func() time.Time, opts Options) (store.VerifyReport, store.Verification, error) {
	anchored, err := sink.Seals(ctx)
	if err != nil {
		return store.VerifyReport{}, store.Verification{}, fmt.Errorf("verify: read the anchor: %w", err)
	}
	keys := opts.Pinned
	if len(keys) == 0 {
		if keys, err = sink.Keys(ctx); err != nil {
			return store.VerifyReport{}, store.Verification{}, fmt.Errorf("verify: read the anchor's keys: %w", err)
		}
	}
	verified, err := sink.Verified(ctx)
	if err != nil {
		return store.VerifyReport{}, store.Verification{}, fmt.Errorf("verify: read the anchor's checkpoints: %w", err)
	}
	rep, err := st.VerifyAudit(ctx, store.VerifyOptions{
		Anchored: anchored, Keys: keys, Full: opts.Full, Verified: verified, Now: now(), AnchorGrace: AnchorGrace, Progress: opts.Progress,
	})
	if err != nil {
		return rep, store.Verification{}, fmt.Errorf("verify: %w", err)
	}
	if rep.OK() && rep.Newest.ID > 0 && rep.PendingAnchor == 0 {
		// The next incremental run starts here. An anchor this process
		// may only read (a verifier's read-only mount) keeps none: that
		// run is then full.
		if err := sink.PutVerified(ctx, rep.Newest.ID, rep.Newest.SealHash); err != nil {
			rep.CheckpointError = err.Error()
		}
	}
	v, err := st.RecordVerification(ctx, rep, opts.Full, opts.StartedBy, now())
	if err != nil {
		return rep, v, fmt.Errorf("verify: %w", err)
	}
	return rep, v, nil
}
