package clients

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"

	"ces/internal/fx"
	"ces/internal/tracing"
)

// KeyStore finds a key by its hash (implemented by *store.Keys); an
// unknown hash is fx.ErrUnauthorized.
type KeyStore interface {
	APIKeyByHash(ctx context.Context, hash string) (Key, error)
}

// CacheTTL bounds how long a replica trusts what it read about a key when
// it could not hear revocations (Redis down); while it hears them, a
// revocation empties every replica's cache at once.
const CacheTTL = 30 * time.Second

// UnknownKeyTTL is how long a replica remembers that no key has a hash, so
// that a client repeating a wrong key (a typo, a deleted configuration, a
// scanner) costs no PostgreSQL lookup per request. A key is made with
// fresh randomness when it is created, so no one sends it before: the
// bound matters only for a key restored into the database, which works
// on every replica at most this long after.
const UnknownKeyTTL = 15 * time.Second

// maxUnknownKeys bounds the hashes remembered as unknown (about 2 MB);
// past it otter evicts by frequency, so a flood of random keys cannot
// grow the table or push out the keys repeated most.
const maxUnknownKeys = 10_000

// Authenticator checks the API key of each request. Keys are read from
// PostgreSQL and kept in memory; a revocation is announced on Redis and
// drops every replica's copy. Hashes PostgreSQL has no key for are
// remembered for UnknownKeyTTL, so a wrong key sent again costs no lookup.
type Authenticator struct {
	store   KeyStore
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
	now     func() time.Time

	// unknown holds the hashes PostgreSQL had no key for, never the keys,
	// each for UnknownKeyTTL.
	unknown *otter.Cache[string, struct{}]

	mu        sync.Mutex
	cache     map[string]cached // by hash
	listening bool              // subscribed: revocations reach us
	// generation counts flushes: a key read before a flush is not cached
	// after it, or a revocation announced during the read would be lost.
	generation uint64
}

type cached struct {
	key Key
	at  time.Time
}

// NewAuthenticator returns an Authenticator; revocations travel on
// prefix+"apikeys:revoked".
func NewAuthenticator(st KeyStore, rdb redis.UniversalClient, prefix string, log *slog.Logger) *Authenticator {
	if log == nil {
		log = slog.Default()
	}
	a := &Authenticator{store: st, rdb: rdb, channel: RevocationChannel(prefix), log: log, now: time.Now, cache: map[string]cached{}}
	a.unknown = otter.Must(&otter.Options[string, struct{}]{
		MaximumSize:      maxUnknownKeys,
		ExpiryCalculator: otter.ExpiryWriting[string, struct{}](UnknownKeyTTL),
		Clock:            clock{a},
	})
	return a
}

// clock is the Authenticator's clock as otter reads it. It never ticks:
// expired hashes are dropped when met or evicted, and the size bound holds
// either way, so no goroutine outlives the Authenticator.
type clock struct{ a *Authenticator }

func (c clock) NowNano() int64                    { return c.a.now().UnixNano() }
func (clock) Tick(time.Duration) <-chan time.Time { return nil }

// Authenticate returns the key of an Authorization header, or
// fx.ErrUnauthorized for a missing, malformed, unknown or revoked one.
// Other errors mean the key could not be checked (database down).
func (a *Authenticator) Authenticate(ctx context.Context, header string) (_ Key, err error) {
	// The span says where the key was found, never the key, its hash or
	// its id.
	ctx, span := tracing.Start(ctx, "clients.authenticate")
	defer func() { span.Fail(err); span.End() }()
	plain, ok := FromHeader(header)
	if !ok {
		return Key{}, fx.ErrUnauthorized
	}
	hash := Hash(plain)
	if _, known := a.unknown.GetIfPresent(hash); known {
		return Key{}, fx.ErrUnauthorized
	}
	a.mu.Lock()
	c, hit := a.cache[hash]
	fresh := hit && a.listening && a.now().Sub(c.at) < CacheTTL
	gen := a.generation
	a.mu.Unlock()
	span.SetBool("ces.auth.cached", fresh)
	if !fresh {
		k, err := a.store.APIKeyByHash(ctx, hash)
		if errors.Is(err, fx.ErrUnauthorized) {
			a.unknown.Set(hash, struct{}{})
		}
		if err != nil {
			return Key{}, err
		}
		c = cached{key: k, at: a.now()}
		a.mu.Lock()
		if a.generation == gen {
			if len(a.cache) > 10_000 { // bounded: a flood of keys empties it
				clear(a.cache)
			}
			a.cache[hash] = c
		}
		a.mu.Unlock()
	}
	if c.key.Revoked() {
		return Key{}, fx.ErrUnauthorized
	}
	return c.key, nil
}

// Announce tells every replica that a key was revoked.
func (a *Authenticator) Announce(ctx context.Context, keyID string) error {
	return Announce(ctx, a.rdb, a.channel, keyID)
}

// Announce publishes a revocation on channel (for processes without an
// Authenticator: the starter).
func Announce(ctx context.Context, rdb redis.UniversalClient, channel, keyID string) error {
	if err := rdb.Publish(ctx, channel, keyID).Err(); err != nil {
		return fmt.Errorf("clients: announce revocation: %w", err)
	}
	return nil
}

// RevocationChannel is the channel revocations travel on under prefix.
func RevocationChannel(prefix string) string { return prefix + "apikeys:revoked" }

// Watch listens for revocations until ctx ends. A message empties the
// cache. While it cannot be sure to hear them (not subscribed yet, or the
// subscription broke and go-redis is resubscribing), the cache is
// bypassed: every request reads its key from PostgreSQL, so a revocation
// still takes effect at once.
func (a *Authenticator) Watch(ctx context.Context) {
	sub := a.rdb.Subscribe(ctx, a.channel)
	defer sub.Close()
	for ctx.Err() == nil {
		msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if sub.Ping(ctx) == nil {
					continue // quiet but alive
				}
			}
			a.flush(false)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		switch msg.(type) {
		case *redis.Subscription, *redis.Message:
			// (Re)subscribed, or a revocation: anything cached may be stale.
			a.flush(true)
		}
	}
}

// Listening reports whether Watch is subscribed, so that cached keys are
// trusted; until then every request reads its key from PostgreSQL.
func (a *Authenticator) Listening() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.listening
}

func (a *Authenticator) flush(listening bool) {
	a.mu.Lock()
	clear(a.cache)
	a.listening = listening
	a.generation++
	a.mu.Unlock()
}
