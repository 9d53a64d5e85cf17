package store

import (
	"context"
	"fmt"
	"time"
)

// AuditPartitionsAhead is how many months of conversion_audits partitions
// the worker keeps made beyond the current one: a quarter, so a worker
// stopped for weeks still finds next month's partition in place.
const AuditPartitionsAhead = 3

// MakeAuditPartitions makes the monthly partitions of conversion_audits
// up to ahead months from now that do not exist yet, and returns their
// names. It is idempotent: a second call makes none.
func (s *Audit) MakeAuditPartitions(ctx context.Context, ahead int) ([]string, error) {
	var made []string
	if err := s.db.NewRaw("SELECT ces_audit_partitions(?)", ahead).Scan(ctx, &made); err != nil {
		return nil, fmt.Errorf("store: make audit partitions: %w", err)
	}
	return made, nil
}

// PruneIdempotencyKeys forgets the idempotency keys of receipts created
// more than keep ago (at least an hour) and returns how many it forgot.
// The receipts keep their keys; a client that sends a forgotten key again
// makes a new conversion.
func (s *Audit) PruneIdempotencyKeys(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	if err := s.db.NewRaw("SELECT ces_prune_idempotency_keys(make_interval(secs => ?))", int64(keep/time.Second)).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("store: prune idempotency keys: %w", err)
	}
	return n, nil
}
