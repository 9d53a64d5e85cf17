package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
)

// keyStore is the database's api_keys as the Authenticator sees it,
// counting lookups.
type keyStore struct {
	mu      sync.Mutex
	keys    map[string]Key // by hash
	err     error
	lookups int
}

func (s *keyStore) APIKeyByHash(_ context.Context, hash string) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.err != nil {
		return Key{}, s.err
	}
	k, ok := s.keys[hash]
	if !ok {
		return Key{}, fx.ErrUnauthorized
	}
	return k, nil
}

func (s *keyStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

// TestUnknownKeysAreRemembered: an unknown key sent again within
// UnknownKeyTTL costs no lookup; after it, the key is looked up again (and
// works if it was stored meanwhile); a failed lookup is not remembered; and
// a flood of distinct keys leaves the table within its bound.
func TestUnknownKeysAreRemembered(t *testing.T) {
	ctx := context.Background()
	st := &keyStore{keys: map[string]Key{}}
	a := NewAuthenticator(st, nil, "t:", nil)
	// otter reads the clock from its maintenance goroutines too.
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).UnixNano())
	a.now = func() time.Time { return time.Unix(0, now.Load()) }
	k, plain, hash, err := NewKey("later", DefaultScopes, 0, "test", a.now())
	if err != nil {
		t.Fatal(err)
	}

	for i := range 5 {
		if _, err := a.Authenticate(ctx, "Bearer "+plain); !errors.Is(err, fx.ErrUnauthorized) {
			t.Fatalf("request %d: %v, want unauthorized", i, err)
		}
	}
	if n := st.count(); n != 1 {
		t.Fatalf("5 requests with one unknown key made %d lookups, want 1", n)
	}
	// Stored now (a restored backup): still refused until the TTL passes,
	// then it works.
	st.mu.Lock()
	st.keys[hash] = k
	st.mu.Unlock()
	now.Add(int64(UnknownKeyTTL - time.Second))
	if _, err := a.Authenticate(ctx, "Bearer "+plain); !errors.Is(err, fx.ErrUnauthorized) || st.count() != 1 {
		t.Fatalf("within the TTL: %v after %d lookups", err, st.count())
	}
	now.Add(int64(2 * time.Second))
	if got, err := a.Authenticate(ctx, "Bearer "+plain); err != nil || got.ID != k.ID || st.count() != 2 {
		t.Fatalf("after the TTL: %+v, %v after %d lookups, want the key after 2", got, err, st.count())
	}

	// A lookup that failed says nothing about the key: asked again.
	st.mu.Lock()
	st.err = fx.ErrDatabaseUnavailable
	st.mu.Unlock()
	for range 2 {
		if _, err := a.Authenticate(ctx, "Bearer ces_down"); !errors.Is(err, fx.ErrDatabaseUnavailable) {
			t.Fatalf("database down: %v", err)
		}
	}
	if n := st.count(); n != 4 {
		t.Fatalf("%d lookups, want 4: a failed lookup was remembered", n)
	}
	st.mu.Lock()
	st.err = nil
	st.mu.Unlock()

	for i := range maxUnknownKeys + 2000 {
		if _, err := a.Authenticate(ctx, fmt.Sprintf("Bearer ces_flood%d", i)); !errors.Is(err, fx.ErrUnauthorized) {
			t.Fatalf("flood key %d: %v", i, err)
		}
	}
	a.unknown.CleanUp()
	if n := a.unknown.EstimatedSize(); n > maxUnknownKeys || n == 0 {
		t.Fatalf("%d unknown hashes remembered after %d distinct keys, want at most %d", n, maxUnknownKeys+2000, maxUnknownKeys)
	}
	for h := range a.unknown.Keys() {
		if len(h) != 64 {
			t.Fatalf("the table holds %q, not a SHA-256", h)
		}
	}
}

// TestRevokedKeys: a revoked key is refused; a key revoked after it was
// cached is refused at once while the replica cannot hear revocations
// (every request reads PostgreSQL), and, while it hears them, as soon as
// the announcement empties the cache or, were it lost, once CacheTTL has
// passed.
func TestRevokedKeys(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// revokedFirst: the key is revoked before its first request.
		revokedFirst bool
		// listening: Watch is subscribed; announced: the revocation's
		// announcement reached this replica; after: how long after the
		// first request the next one comes.
		listening, announced bool
		after                time.Duration
		refused              bool
		lookups              int
	}{
		{name: "a revoked key is refused", revokedFirst: true, refused: true, lookups: 1},
		{name: "not listening: the next request reads the revocation", refused: true, lookups: 2},
		{name: "listening: the announcement empties the cache", listening: true, announced: true, refused: true, lookups: 2},
		{name: "listening: the cached key is trusted until the announcement", listening: true, lookups: 1},
		{name: "listening, announcement lost: trusted within CacheTTL", listening: true, after: CacheTTL - time.Second, lookups: 1},
		{name: "listening, announcement lost: CacheTTL bounds the trust", listening: true, after: CacheTTL, refused: true, lookups: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &keyStore{keys: map[string]Key{}}
			a := NewAuthenticator(st, nil, "t:", nil)
			// otter reads the clock from its maintenance goroutines too.
			var now atomic.Int64
			now.Store(t0.UnixNano())
			a.now = func() time.Time { return time.Unix(0, now.Load()) }
			k, plain, hash, err := NewKey("client", DefaultScopes, 0, "test", a.now())
			if err != nil {
				t.Fatal(err)
			}
			revoke := func() {
				st.mu.Lock()
				k.RevokedAt = a.now()
				st.keys[hash] = k
				st.mu.Unlock()
			}
			st.keys[hash] = k
			if tt.listening {
				a.flush(true) // as Watch does once subscribed
			}
			if tt.revokedFirst {
				revoke()
				if _, err := a.Authenticate(ctx, "Bearer "+plain); !errors.Is(err, fx.ErrUnauthorized) {
					t.Fatalf("revoked key: %v, want %v", err, fx.ErrUnauthorized)
				}
				if n := st.count(); n != tt.lookups {
					t.Errorf("%d lookups, want %d", n, tt.lookups)
				}
				return
			}
			if got, err := a.Authenticate(ctx, "Bearer "+plain); err != nil || got.ID != k.ID {
				t.Fatalf("before the revocation: %+v, %v", got, err)
			}
			revoke()
			if tt.announced {
				a.flush(true) // as Watch does on the announcement
			}
			now.Add(int64(tt.after))
			_, err = a.Authenticate(ctx, "Bearer "+plain)
			if refused := errors.Is(err, fx.ErrUnauthorized); refused != tt.refused || err != nil && !refused {
				t.Errorf("after the revocation: %v, want refused %t", err, tt.refused)
			}
			if n := st.count(); n != tt.lookups {
				t.Errorf("%d lookups, want %d", n, tt.lookups)
			}
		})
	}
}
