// Package anchor keeps a copy of every audit seal, and of every public key
// that signed one, outside PostgreSQL, where the database's credentials
// cannot reach. verify-audit compares the database's chain with it.
package anchor

import (
	"context"
	"crypto/ed25519"
	"errors"

	"ces/internal/audit"
)

// ErrConflict means the sink already holds a different seal (or key) under
// the same id: the sink is never rewritten, so one of the two copies was
// tampered with.
var ErrConflict = errors.New("anchor: a different copy is already stored under this id")

// Sink is an append-only store of seals. Put and PutKey are idempotent:
// storing what is already there succeeds; storing something else under
// an existing id fails with ErrConflict. An object store with write-once
// retention (S3 Object Lock in compliance mode, GCS bucket lock, Azure
// immutable blobs) implements it with one object per seal and a
// conditional create (If-None-Match: *).
type Sink interface {
	Put(ctx context.Context, seal audit.Seal) error
	PutKey(ctx context.Context, pub ed25519.PublicKey) error
	// Latest returns the id of the newest stored seal; false when none.
	Latest(ctx context.Context) (int64, bool, error)
	// Seals returns every stored seal, by id.
	Seals(ctx context.Context) ([]audit.Seal, error)
	// Keys returns every stored public key.
	Keys(ctx context.Context) (audit.Keys, error)
	// PutVerified records that a clean verify-audit run ended at seal id
	// (with hash); Verified returns them all, seal id → seal hash. An
	// incremental run resumes from the newest: kept here, out of the
	// database's reach, so that its owner cannot fake a resume point.
	PutVerified(ctx context.Context, sealID int64, sealHash string) error
	Verified(ctx context.Context) (map[int64]string, error)
}
