package rates

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"ces/internal/cache"
	"ces/internal/fx"
)

// snapshot is the provider's whole latest set as last read from Redis.
type snapshot struct {
	base   string
	rates  map[string]fx.Rate
	loaded time.Time
}

// nearCache keeps the latest set in process memory so a lookup costs no
// network round trip. An ingestion's announcement (Redis pub/sub) drops it
// at once; ttl bounds how long a lost announcement can hide a new rate.
type nearCache struct {
	ttl  time.Duration
	cur  atomic.Pointer[snapshot]
	load sync.Mutex // one Redis read at a time; the others wait for it
}

// NearCacheTTL bounds how stale the in-process copy of the latest rates
// may be when an announcement is lost. It leaves a quarter of the 1 s
// promise for the reload and the request itself, even on a loaded machine.
const NearCacheTTL = 750 * time.Millisecond

func (n *nearCache) fresh() *snapshot {
	if s := n.cur.Load(); s != nil && time.Since(s.loaded) < n.ttl {
		return s
	}
	return nil
}

// invalidate forgets the snapshot; the next lookup reads Redis.
func (n *nearCache) invalidate() { n.cur.Store(nil) }

// snapshot returns the provider's latest set from memory, or reads it from
// Redis when the copy is missing or older than the ttl. Errors (Redis down,
// cache empty) leave no snapshot, so callers fall back to PostgreSQL.
func (s *Service) snapshot(ctx context.Context) (*snapshot, error) {
	if snap := s.near.fresh(); snap != nil {
		return snap, nil
	}
	s.near.load.Lock()
	defer s.near.load.Unlock()
	if snap := s.near.fresh(); snap != nil {
		return snap, nil
	}
	// The invalidation may race with this read; reading after taking the
	// time keeps the bound: the copy is never older than what it claims.
	loaded := time.Now()
	base, err := s.cache.Base(ctx, s.provider)
	if err != nil {
		return nil, err
	}
	all, err := s.cache.All(ctx, s.provider, base)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, cache.ErrMiss
	}
	snap := &snapshot{base: base, rates: all, loaded: loaded}
	if s.near.ttl > 0 {
		s.near.cur.Store(snap)
	}
	return snap, nil
}

// Watch drops the in-process copy whenever an ingestion announces new
// rates for this provider, until ctx ends. Run it in its own goroutine.
func (s *Service) Watch(ctx context.Context) {
	s.cache.Watch(ctx, func(provider string) {
		if provider == s.provider {
			s.near.invalidate()
		}
	})
}
