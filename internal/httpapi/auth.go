package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/fx"
)

// Quotas charges a request to its key's allowance (implemented by
// *clients.Quotas).
type Quotas interface {
	Take(ctx context.Context, key clients.Key, scope string) clients.Verdict
}

// AddressQuotas charges a request without a key to its client's address
// (implemented by *clients.AddressQuotas).
type AddressQuotas interface {
	Take(address string) clients.Verdict
}

// Authenticator checks a request's Authorization header (implemented by
// *clients.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (clients.Key, error)
}

const localsClient = "ces-client"

// require admits a request whose API key holds scope, and stores the key
// for the handler. With public, a request without an Authorization header
// is admitted anonymously (RATES_PUBLIC for lookups), within its address's
// quota; one that sends a key must still send a valid one. A missing or
// bad key is 401 and a key without the scope 403, both in the error shape,
// neither saying whether the key exists. Over a quota, 429. Without an
// Authenticator nothing is admitted.
func (h *handlers) require(scope string, public bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		header := c.Request().Header.Peek(fiber.HeaderAuthorization)
		if header == nil && public {
			if h.d.AddressQuotas != nil {
				v := h.d.AddressQuotas.Take(clientaddr.Of(c))
				if err := quotaHeaders(c, v); err != nil {
					return fmt.Errorf("%w: %d requests per minute from one address without an API key; retry in %s", err, v.Limit, v.RetryAfter.Round(time.Millisecond))
				}
			}
			return c.Next()
		}
		if h.d.Auth == nil {
			return fx.ErrUnauthorized
		}
		key, err := h.d.Auth.Authenticate(c.UserContext(), string(header))
		switch {
		case errors.Is(err, fx.ErrUnauthorized):
			return err
		case err != nil:
			// Nothing was written; a client's Idempotency-Key comes back
			// as on every other 503 of a conversion.
			if k := c.Get(HeaderIdempotencyKey); k != "" && validIdempotencyKey(k) {
				c.Set(HeaderIdempotencyKey, k)
			}
			return fmt.Errorf("%w: authenticate: %w", fx.ErrDatabaseUnavailable, err)
		case !key.Has(scope):
			return fmt.Errorf("%w: this API key lacks the %s scope", fx.ErrForbidden, scope)
		}
		c.Locals(localsClient, key)
		if h.d.Quotas != nil {
			v := h.d.Quotas.Take(c.UserContext(), key, scope)
			if err := quotaHeaders(c, v); err != nil {
				return fmt.Errorf("%w: %d requests per minute for the %s scope; retry in %s", err, v.Limit, scope, v.RetryAfter.Round(time.Millisecond))
			}
		}
		return c.Next()
	}
}

// quotaHeaders sets the RateLimit headers of a checked verdict, and
// Retry-After with fx.ErrRateLimited when the request is over it: keyed
// and anonymous requests answer alike.
func quotaHeaders(c *fiber.Ctx, v clients.Verdict) error {
	if v.Checked {
		c.Set("RateLimit-Limit", strconv.Itoa(v.Limit))
		c.Set("RateLimit-Remaining", strconv.Itoa(max(v.Remaining, 0)))
		c.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(v.ResetAfter)))
	}
	if !v.Allowed {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(ceilSeconds(v.RetryAfter), 1)))
		return fx.ErrRateLimited
	}
	return nil
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

// client is the key the request was admitted with; zero when anonymous.
func client(c *fiber.Ctx) clients.Key {
	k, _ := c.Locals(localsClient).(clients.Key)
	return k
}
