package rates

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/tracing"
)

// snapshot is every provider's latest released set and the suspended
// pairs, as last read from Redis (or PostgreSQL where Redis lacked them).
type snapshot struct {
	// books are the latest rows as the source policy judges them when
	// the snapshot was taken: fresh or stale, under review or not.
	books     *policy.Books
	suspended map[string]bool
	loaded    time.Time
	source    Source
	cacheErr  error
	// routes memoizes the source policy's answers over these books, which
	// never change: a lookup of a pair already priced is a map read.
	routes  sync.Map // routeKey → routed
	nroutes atomic.Int32
}

type routeKey struct{ from, to, only string }

type routed struct {
	p    policy.Priced
	err  error
	slot *Slot
}

// maxRoutes bounds the memo of one snapshot (it lives until the next
// reload), whatever pairs clients ask for.
const maxRoutes = 4096

// nearCache keeps the latest sets in process memory so a lookup costs no
// network round trip. An ingestion's announcement (Redis pub/sub) drops it
// at once; ttl bounds how long a lost announcement can hide a new rate.
type nearCache struct {
	ttl time.Duration
	cur atomic.Pointer[snapshot]
	// loads shares one reload among every lookup that finds the copy
	// stale, so a slow or frozen Redis costs one wait, not one per caller.
	loads singleflight.Group
	// redisDownUntil (Unix nanoseconds) is zero while Redis answers. A
	// failed Redis read sets it redisBackoff ahead: lookups then read
	// PostgreSQL, and once it has passed one background probe (probing)
	// reads Redis again, so no lookup waits on a sick Redis twice.
	redisDownUntil atomic.Int64
	probing        atomic.Bool
}

// NearCacheTTL bounds how stale the in-process copy of the latest rates
// may be when an announcement is lost. It leaves a quarter of the 1 s
// promise for the reload and the request itself, even on a loaded machine.
const NearCacheTTL = 750 * time.Millisecond

// redisBackoff is how long a failed Redis read sends lookups straight to
// PostgreSQL before Redis is tried again.
const redisBackoff = time.Second

// reloadTimeout bounds a shared reload, which must not die with the
// request that happened to start it.
const reloadTimeout = 3 * time.Second

func (n *nearCache) fresh() *snapshot {
	if s := n.cur.Load(); s != nil && time.Since(s.loaded) < n.ttl {
		return s
	}
	return nil
}

// keep makes snap, read from Redis at loaded, the in-process copy.
func (n *nearCache) keep(snap *snapshot, loaded time.Time) {
	snap.loaded = loaded
	if n.ttl > 0 {
		n.cur.Store(snap)
	}
}

// invalidate forgets the snapshot; the next lookup reads Redis.
func (n *nearCache) invalidate() { n.cur.Store(nil) }

// errRedisBackingOff marks a snapshot read from PostgreSQL because Redis
// failed less than redisBackoff ago.
var errRedisBackingOff = errors.New("rates: redis failed recently; reading PostgreSQL")

// snapshot returns the latest sets from memory, or reads them when the
// copy is missing or older than the ttl; concurrent callers share one
// read. A provider Redis holds nothing for (Redis was emptied, or its
// first ingestion has not cached yet) is read from PostgreSQL and written
// back to Redis, whose compare on as_of keeps any newer rate an ingestion
// cached meanwhile. When Redis fails, everything is read from PostgreSQL,
// nothing is kept in memory, and Redis is left to a background probe
// (probeRedis) until it answers again.
func (s *Service) snapshot(ctx context.Context) (*snapshot, error) {
	if snap := s.near.fresh(); snap != nil {
		tracing.Annotate(ctx, TierAttribute, "near")
		return snap, nil
	}
	ch := s.near.loads.DoChan("latest", func() (any, error) {
		if snap := s.near.fresh(); snap != nil {
			return snap, nil
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reloadTimeout)
		defer cancel()
		return s.reload(ctx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		snap := res.Val.(*snapshot)
		if snap.source == FromCache {
			tracing.Annotate(ctx, TierAttribute, "redis")
		} else {
			tracing.Annotate(ctx, TierAttribute, "database")
		}
		return snap, nil
	case <-ctx.Done():
		// This caller's deadline is shorter than the shared reload's.
		return nil, fmt.Errorf("rates: waiting for the latest rates: %w", ctx.Err())
	}
}

// TierAttribute is the span attribute that says which tier answered a
// latest-rate lookup: "near" (this process's copy), "redis", or
// "database" (PostgreSQL, when Redis failed or lacked a provider).
const TierAttribute = "ces.rates.tier"

func (s *Service) reload(ctx context.Context) (*snapshot, error) {
	// The invalidation may race with this read; reading after taking the
	// time keeps the bound: the copy is never older than what it claims.
	loaded := time.Now()
	if down := s.near.redisDownUntil.Load(); down != 0 {
		if loaded.UnixNano() >= down {
			s.probeRedis()
		}
		snap, err := s.fromDatabaseTraced(ctx)
		if err != nil {
			return nil, err
		}
		snap.cacheErr = errRedisBackingOff
		return snap, nil
	}
	snap, cacheErr := s.fromCacheTraced(ctx)
	if cacheErr != nil {
		s.near.redisDownUntil.Store(time.Now().Add(redisBackoff).UnixNano())
		s.warnCache(ctx, cacheErr)
		snap, err := s.fromDatabaseTraced(ctx)
		if err != nil {
			return nil, err
		}
		snap.cacheErr = cacheErr
		return snap, nil
	}
	s.near.keep(snap, loaded)
	return snap, nil
}

// probeRedis reads Redis in the background, once at a time, after a
// failure: lookups keep reading PostgreSQL meanwhile, and the first
// successful read puts the near cache back in service. A frozen Redis
// costs the probe its read timeout, never a lookup.
func (s *Service) probeRedis() {
	if !s.near.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.near.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		defer cancel()
		loaded := time.Now()
		snap, err := s.fromCache(ctx)
		if err != nil {
			s.near.redisDownUntil.Store(time.Now().Add(redisBackoff).UnixNano())
			return
		}
		s.near.keep(snap, loaded)
		s.near.redisDownUntil.Store(0)
	}()
}

// fromCacheTraced is fromCache in a span of its own, the Redis tier of a
// reload (PostgreSQL's reads for providers Redis lacked are under it).
func (s *Service) fromCacheTraced(ctx context.Context) (*snapshot, error) {
	ctx, span := tracing.Start(ctx, "rates.redis")
	defer span.End()
	snap, err := s.fromCache(ctx)
	span.Fail(err)
	return snap, err
}

// fromDatabaseTraced is fromDatabase in a span of its own, the PostgreSQL
// tier of a reload.
func (s *Service) fromDatabaseTraced(ctx context.Context) (*snapshot, error) {
	ctx, span := tracing.Start(ctx, "rates.database")
	defer span.End()
	snap, err := s.fromDatabase(ctx)
	span.Fail(err)
	return snap, err
}

func (s *Service) fromCache(ctx context.Context) (*snapshot, error) {
	cached, err := s.cache.Latest(ctx, s.providers)
	if err != nil {
		return nil, err
	}
	var rows []fx.Rate
	var missing []string
	for _, p := range s.providers {
		if list, ok := cached[p]; ok {
			rows = append(rows, list...)
		} else {
			missing = append(missing, p)
		}
	}
	src := FromCache
	if len(missing) > 0 {
		src = FromDatabase
		more, err := s.store.LatestServable(ctx, missing, nil, time.Time{})
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
		byProvider := map[string][]fx.Rate{}
		for _, r := range more {
			byProvider[r.Provider] = append(byProvider[r.Provider], r)
		}
		for p, list := range byProvider {
			if _, err := s.cache.SetLatest(ctx, p, list, ""); err != nil {
				s.warnCache(ctx, err)
			}
		}
	}
	suspended, err := cachedOrRead(ctx, s, s.cache.Suspensions, s.suspensionsFromDatabase,
		func(ctx context.Context, m map[string]bool, at time.Time) error {
			return s.cache.SetSuspensions(ctx, keys(m), at)
		})
	if err != nil {
		return nil, err
	}
	held, err := cachedOrRead(ctx, s, s.cache.Held, s.standing.HeldSeries, s.cache.SetHeld)
	if err != nil {
		return nil, err
	}
	_, silent := s.health(ctx)
	return s.newSnapshot(rows, suspended, held, silent, src), nil
}

// cachedOrRead returns the copy the cache holds (suspended pairs, held
// series) unless Redis lacks it or it was read from PostgreSQL longer ago
// than SuspensionsMaxAge, so that a lost update (two operators at once, a
// failed sync) does not outlive that bound; then it reads PostgreSQL and
// writes the copy back.
func cachedOrRead[T any](ctx context.Context, s *Service,
	cached func(context.Context) (T, time.Time, error),
	read func(context.Context) (T, error),
	write func(context.Context, T, time.Time) error,
) (T, error) {
	v, readAt, err := cached(ctx)
	if err == nil && time.Since(readAt) <= SuspensionsMaxAge {
		return v, nil
	}
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		return v, err
	}
	readAt = time.Now()
	if v, err = read(ctx); err != nil {
		return v, err
	}
	if err := write(ctx, v, readAt); err != nil {
		s.warnCache(ctx, err)
	}
	return v, nil
}

func (s *Service) fromDatabase(ctx context.Context) (*snapshot, error) {
	rows, err := s.store.LatestServable(ctx, s.providers, nil, time.Time{})
	if err != nil {
		return nil, err
	}
	suspended, err := s.suspensionsFromDatabase(ctx)
	if err != nil {
		return nil, err
	}
	held, err := s.standing.HeldSeries(ctx)
	if err != nil {
		return nil, err
	}
	_, silent := s.health(ctx)
	snap := s.newSnapshot(rows, suspended, held, silent, FromDatabase)
	snap.loaded = time.Now()
	return snap, nil
}

func (s *Service) suspensionsFromDatabase(ctx context.Context) (map[string]bool, error) {
	list, err := s.standing.Suspensions(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, p := range list {
		out[store.SuspendedKey(p.Base, p.Quote)] = true
	}
	return out, nil
}

// SuspensionsMaxAge bounds how long a cached set of suspended pairs (or
// of held series) is trusted before it is read again from PostgreSQL: the
// repair of an update lost between two concurrent writers.
const SuspensionsMaxAge = 30 * time.Second

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// newSnapshot builds the books of a snapshot from the latest rows, judged
// now (policy.Books), silent publishers' rows stale. The rows of suspended
// pairs are left out, so no route can price through a suspended pair
// either.
func (s *Service) newSnapshot(rows []fx.Rate, suspended map[string]bool, held map[policy.Series]time.Time, silent map[string]time.Time, src Source) *snapshot {
	kept := make([]fx.Rate, 0, len(rows))
	for _, r := range rows {
		if !suspended[store.SuspendedKey(r.Base, r.Quote)] {
			kept = append(kept, r)
		}
	}
	books := policy.NewBooks(kept, policy.Standing{At: s.now(), StaleAfter: s.staleAfter, Held: held, Silent: silent}, s.authority)
	return &snapshot{books: books, suspended: suspended, source: src}
}

// Watch drops the in-process copy whenever an ingestion announces new
// rates of a served provider, or suspensions change, and keeps the
// history cache in step with PostgreSQL, until ctx ends. Run it in its
// own goroutine.
func (s *Service) Watch(ctx context.Context) {
	if s.past != nil {
		go s.past.run(ctx, func(err error) {
			s.log.WarnContext(ctx, "history cache: not listening to PostgreSQL; historical answers read PostgreSQL until it listens again", "error", err.Error())
		})
	}
	s.cache.Watch(ctx, func(string) { s.near.invalidate() })
}
