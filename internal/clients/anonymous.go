package clients

import (
	"context"
	"net/netip"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// maxAddresses bounds the addresses an AddressQuotas tracks (a few MB);
// past it otter evicts by frequency, and an evicted address starts again
// with a whole allowance.
const maxAddresses = 50_000

// AddressQuotas limits the requests per minute of each client address
// that sends no API key (anonymous lookups, RATES_PUBLIC=true). It is kept
// in the process, never in Redis: a lookup costs no network call, and each
// API replica counts on its own, so an address may make up to the limit on
// every replica. Allowances are token buckets (golang.org/x/time/rate) of
// the limit, refilled over a minute, like the keys' GCRA quotas; an
// address unheard of for a minute is forgotten, its allowance whole again
// by then anyway.
type AddressQuotas struct {
	limit   int
	now     func() time.Time
	buckets *otter.Cache[string, *rate.Limiter]
}

// NewAddressQuotas returns AddressQuotas of perMinute requests per
// address; perMinute 0 admits everything.
func NewAddressQuotas(perMinute int, now func() time.Time) *AddressQuotas {
	if now == nil {
		now = time.Now
	}
	return &AddressQuotas{
		limit: perMinute, now: now,
		buckets: otter.Must(&otter.Options[string, *rate.Limiter]{
			MaximumSize:      maxAddresses,
			ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](time.Minute),
		}),
	}
}

// Take charges one request from address (as clientaddr.Of gives it). IPv6
// addresses count by their /64, the block one subscriber is given, so that
// a client cannot step around its limit by changing the low bits.
func (q *AddressQuotas) Take(address string) Verdict {
	if q.limit <= 0 {
		return Verdict{Checked: true, Allowed: true}
	}
	key := address
	if a, err := netip.ParseAddr(address); err == nil {
		a = a.Unmap().WithZone("") // an IPv4 address arriving over IPv6 is itself
		key = a.String()
		if a.Is6() {
			key = netip.PrefixFrom(a, 64).Masked().String()
		}
	}
	every := rate.Every(time.Minute / time.Duration(q.limit))
	// Get makes the bucket once however many requests ask at once; the
	// loader never fails.
	b, _ := q.buckets.Get(context.Background(), key, otter.LoaderFunc[string, *rate.Limiter](func(context.Context, string) (*rate.Limiter, error) {
		return rate.NewLimiter(every, q.limit), nil
	}))
	now := q.now()
	allowed := b.AllowN(now, 1)
	tokens := b.TokensAt(now)
	perToken := time.Minute / time.Duration(q.limit)
	v := Verdict{Checked: true, Allowed: allowed, Limit: q.limit, Remaining: max(int(tokens), 0),
		ResetAfter: time.Duration((float64(q.limit) - tokens) * float64(perToken))}
	if !allowed {
		v.RetryAfter = time.Duration((1 - tokens) * float64(perToken))
	}
	return v
}
