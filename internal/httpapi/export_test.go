package httpapi_test

import (
	"crypto/sha256"
	"encoding/binary"

	"ces/internal/audit"
	"ces/internal/fx"
)

// advisoryKey mirrors the store's mapping of idempotency keys onto
// advisory locks, so a test can hold a key as an in-flight request would.
func advisoryKey(apiKeyID, key string) int64 {
	sum := sha256.Sum256([]byte("ces-idempotency:" + apiKeyID + ":" + key))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// auditCanonical is the hashed text of a receipt.
func auditCanonical(r fx.Receipt) string { return audit.Canonical(r) }
