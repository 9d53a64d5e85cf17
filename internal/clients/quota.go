package clients

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"ces/internal/tracing"
)

// Quotas limits each key's requests per minute and scope, in Redis, so
// that every API replica draws on the same allowance (GCRA, by
// go-redis/redis_rate). When Redis cannot answer, requests are let
// through (fail open) and counted: a quota protects the service, and
// refusing everyone because Redis is down would be the outage it guards
// against. After one failure a circuit breaker skips Redis for a second,
// so a frozen Redis costs one wait, not one per request.
type Quotas struct {
	limiter     *redis_rate.Limiter
	breaker     *gobreaker.CircuitBreaker[*redis_rate.Result]
	prefix      string
	perMinute   map[string]int
	unavailable func()
}

// NewQuotas returns Quotas with the default per-minute limit of each
// scope; onUnavailable (may be nil) is called for each request let
// through unchecked.
func NewQuotas(rdb redis.UniversalClient, prefix string, perMinute map[string]int, onUnavailable func()) *Quotas {
	if onUnavailable == nil {
		onUnavailable = func() {}
	}
	return &Quotas{
		limiter: redis_rate.NewLimiter(rdb),
		breaker: gobreaker.NewCircuitBreaker[*redis_rate.Result](gobreaker.Settings{
			Name:        "quota-redis",
			Timeout:     time.Second,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
			IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		}),
		prefix: prefix, perMinute: perMinute, unavailable: onUnavailable,
	}
}

// Verdict is one request's quota decision.
type Verdict struct {
	// Checked is false when Redis could not answer and the request was
	// let through.
	Checked    bool
	Allowed    bool
	Limit      int
	Remaining  int
	RetryAfter time.Duration // when not Allowed: until one request is allowed again
	ResetAfter time.Duration // until the allowance is whole again
}

// Limit is the per-minute quota of key for scope.
func (q *Quotas) Limit(key Key, scope string) int {
	if key.RequestsPerMinute > 0 {
		return key.RequestsPerMinute
	}
	return q.perMinute[scope]
}

// Take charges one request of key under scope.
func (q *Quotas) Take(ctx context.Context, key Key, scope string) (v Verdict) {
	ctx, span := tracing.Start(ctx, "clients.quota")
	defer func() {
		span.SetBool("ces.quota.checked", v.Checked)
		span.SetBool("ces.quota.allowed", v.Allowed)
		span.End()
	}()
	span.SetString("ces.quota.scope", scope)
	limit := q.Limit(key, scope)
	if limit <= 0 {
		return Verdict{Checked: true, Allowed: true}
	}
	res, err := q.breaker.Execute(func() (*redis_rate.Result, error) {
		return q.limiter.Allow(ctx, fmt.Sprintf("%squota:%s:%s", q.prefix, key.ID, scope), redis_rate.PerMinute(limit))
	})
	if err != nil {
		if !errors.Is(err, context.Canceled) { // a client that left is not Redis's fault
			q.unavailable()
		}
		return Verdict{Allowed: true, Limit: limit}
	}
	return Verdict{Checked: true, Allowed: res.Allowed > 0, Limit: limit, Remaining: res.Remaining,
		RetryAfter: max(res.RetryAfter, 0), ResetAfter: max(res.ResetAfter, 0)}
}
