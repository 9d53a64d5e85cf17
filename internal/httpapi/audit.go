package httpapi

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/store"
)

// AuditKeys lists the public keys that sign audit seals (implemented by
// *store.Audit).
type AuditKeys interface {
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
}

type auditKeyJSON struct {
	KeyID     string    `json:"key_id"`
	PublicKey string    `json:"public_key"`
	CreatedAt time.Time `json:"created_at"`
}

type auditKeysJSON struct {
	Algorithm    string         `json:"algorithm"`
	CurrentKeyID string         `json:"current_key_id,omitempty"`
	Keys         []auditKeyJSON `json:"keys"`
}

// auditPublicKey serves GET /api/v1/audit/public-key: every key that has
// signed seals, newest last, so that an auditor can pin them. A rotated
// key stays listed: the seals it signed still verify with it.
func (h *handlers) auditPublicKey(c *fiber.Ctx) error {
	keys, err := h.d.AuditKeys.SigningKeys(c.UserContext())
	if err != nil {
		return err
	}
	out := auditKeysJSON{Algorithm: "Ed25519", Keys: make([]auditKeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.Keys = append(out.Keys, auditKeyJSON{KeyID: k.KeyID, PublicKey: k.PublicKey, CreatedAt: k.CreatedAt.UTC()})
		out.CurrentKeyID = k.KeyID
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.JSON(out)
}
