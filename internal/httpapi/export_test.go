package httpapi_test

import (
	"crypto/sha256"
	"encoding/binary"
)

// advisoryKey mirrors the store's mapping of idempotency keys onto
// advisory locks, so a test can hold a key as an in-flight request would.
func advisoryKey(key string) int64 {
	sum := sha256.Sum256([]byte("ces-idempotency:" + key))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}
