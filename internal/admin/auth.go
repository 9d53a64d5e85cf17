package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"golang.org/x/crypto/bcrypt"
)

// BcryptCost is the work factor of new admin password hashes. Tests lower
// it; production keeps the default.
var BcryptCost = 12

// MinPasswordLength is the shortest password createsuperuser accepts.
const MinPasswordLength = 12

// HashPassword returns the bcrypt hash of a password.
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	return string(b), err
}

// dummyHash is compared against when the username does not exist, so a
// wrong username costs as long as a wrong password and tells nothing.
var (
	dummyOnce sync.Once
	dummyHash []byte
)

func checkPassword(hash, pw string) bool {
	if hash == "" {
		dummyOnce.Do(func() { dummyHash, _ = bcrypt.GenerateFromPassword([]byte("ces-no-such-user-padding"), BcryptCost) })
		bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// limiter locks out sign-in for a username or a client address after
// MaxFailures failed attempts within Window, until the oldest falls out.
type limiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

// Sign-in limits.
const (
	MaxFailures = 5
	Window      = 15 * time.Minute
)

func newLimiter(now func() time.Time) *limiter {
	return &limiter{failures: map[string][]time.Time{}, now: now}
}

func (l *limiter) recent(key string) []time.Time {
	cut := l.now().Add(-Window)
	kept := l.failures[key][:0]
	for _, t := range l.failures[key] {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = kept
	return kept
}

// lockedUntil reports when any of keys may try again; zero when none is locked.
func (l *limiter) lockedUntil(keys ...string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	for _, k := range keys {
		if r := l.recent(k); len(r) >= MaxFailures {
			if t := r[0].Add(Window); t.After(until) {
				until = t
			}
		}
	}
	return until
}

// maxTracked bounds the keys the in-process limiter remembers, so a flood
// of usernames or addresses cannot grow it without end.
const maxTracked = 10_000

func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) >= maxTracked {
		for k := range l.failures {
			if len(l.recent(k)) == 0 || len(l.failures) >= maxTracked {
				delete(l.failures, k)
			}
			if len(l.failures) < maxTracked/2 {
				break
			}
		}
	}
	for _, k := range keys {
		l.failures[k] = append(l.recent(k), l.now())
	}
}

func (l *limiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// signIns counts sign-in attempts per username and per client address in
// Redis, so that every API replica shares one lock-out: MaxFailures
// attempts without a success lock a key, and one attempt comes back every
// Window/MaxFailures (GCRA, by go-redis/redis_rate). A success clears the
// username's and the address's count. When Redis cannot answer, the
// process's own bounded limiter decides, so the lock-out never fails open.
type signIns struct {
	rdb    *redis_rate.Limiter
	prefix string
	local  *limiter
	now    func() time.Time
}

func (s *signIns) limit() redis_rate.Limit {
	return redis_rate.Limit{Rate: MaxFailures, Burst: MaxFailures, Period: Window}
}

// attempt charges one attempt to each key; it reports until when the
// sign-in is refused (zero: go ahead) and whether Redis decided.
func (s *signIns) attempt(ctx context.Context, keys ...string) (until time.Time, shared bool) {
	if s.rdb == nil {
		return s.local.lockedUntil(keys...), false
	}
	for _, k := range keys {
		res, err := s.rdb.Allow(ctx, s.prefix+"signin:"+k, s.limit())
		if err != nil {
			return s.local.lockedUntil(keys...), false
		}
		if res.Allowed == 0 {
			if t := s.now().Add(res.RetryAfter); t.After(until) {
				until = t
			}
		}
	}
	return until, true
}

func (s *signIns) failed(shared bool, keys ...string) {
	if !shared {
		s.local.fail(keys...)
	}
}

func (s *signIns) succeeded(ctx context.Context, keys ...string) {
	s.local.succeed(keys...)
	if s.rdb != nil {
		for _, k := range keys {
			_ = s.rdb.Reset(ctx, s.prefix+"signin:"+k) // a failure leaves a count that expires by itself
		}
	}
}
