package rates

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"ces/internal/policy"
	"ces/internal/store"
)

// HealthReader reads each publisher's newest health check
// (*store.Health).
type HealthReader interface {
	LatestChecks(ctx context.Context) ([]store.PublisherCheck, error)
}

// HealthMaxAge bounds how long the in-process copy of the newest health
// checks is used before it is read again from PostgreSQL, as the held
// series are: checks run every 15 minutes, so a lookup never costs SQL
// for them.
const HealthMaxAge = SuspensionsMaxAge

// healthCopy is the newest check of each publisher, as last read.
type healthCopy struct {
	mu     sync.Mutex
	checks map[string]store.PublisherCheck
	silent map[string]time.Time
	// version counts the reads that replaced checks and silent, so that
	// an answer memoized under one version is not served after another.
	version uint64
	readAt  time.Time
	loads   singleflight.Group
}

// health returns each publisher's newest check and the silent ones (see
// policy.Standing.Silent), from memory when read less than HealthMaxAge
// ago. A failed read keeps the previous copy (or none): health never
// fails a lookup.
func (s *Service) health(ctx context.Context) (map[string]store.PublisherCheck, map[string]time.Time) {
	checks, silent, _ := s.healthVersion(ctx)
	return checks, silent
}

// healthVersion is health with the version of the copy it returns.
func (s *Service) healthVersion(ctx context.Context) (map[string]store.PublisherCheck, map[string]time.Time, uint64) {
	if s.healthReader == nil {
		return nil, nil, 0
	}
	h := &s.healthCopy
	h.mu.Lock()
	checks, silent, version, fresh := h.checks, h.silent, h.version, !h.readAt.IsZero() && time.Since(h.readAt) < HealthMaxAge
	h.mu.Unlock()
	if fresh {
		return checks, silent, version
	}
	if err := s.RefreshHealth(ctx); err != nil {
		// At most once per HealthMaxAge: a failed read waits that long too.
		s.log.WarnContext(ctx, "publisher health: cannot read the newest checks; answering with the last ones read", "error", err.Error())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.checks, h.silent, h.version
}

// RefreshHealth reads the newest health checks from PostgreSQL now and
// drops the in-process copy of the latest rates, whose staleness depends
// on them. Concurrent callers share one read.
func (s *Service) RefreshHealth(ctx context.Context) error {
	if s.healthReader == nil {
		return nil
	}
	_, err, _ := s.healthCopy.loads.Do("health", func() (any, error) {
		readAt := time.Now()
		list, err := s.healthReader.LatestChecks(ctx)
		h := &s.healthCopy
		h.mu.Lock()
		defer h.mu.Unlock()
		// A failure is retried after HealthMaxAge like a success, so a
		// sick database is not asked on every lookup.
		h.readAt = readAt
		if err != nil {
			return nil, err
		}
		h.checks, h.silent = make(map[string]store.PublisherCheck, len(list)), map[string]time.Time{}
		h.version++
		for _, c := range list {
			h.checks[c.Provider] = c
			if c.Status == policy.Silent {
				h.silent[c.Provider] = c.CheckedAt
			}
		}
		return nil, nil
	})
	s.near.invalidate()
	return err
}
