// Package rates answers rate questions for the API and for conversions:
// latest rates from Redis with PostgreSQL as the fallback, rates in force
// at an instant and series from PostgreSQL, each derived from stored rows
// by the one rule in fx.DeriveQuote.
package rates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/store"
)

// Source says where a latest-rate answer came from.
type Source string

// Sources of an answer.
const (
	FromCache    Source = "cache"
	FromDatabase Source = "database"
)

// Observer is told where each latest-rate lookup was served from; the API
// counts cache hits, misses and fallbacks with it.
type Observer interface {
	Lookup(source Source, cacheErr error)
}

// Result is a quote with its freshness.
type Result struct {
	fx.Quote
	Stale  bool
	Age    time.Duration
	Source Source
}

// Service answers rate questions about one provider.
type Service struct {
	provider   string
	store      *store.Store
	cache      *cache.Cache
	staleAfter time.Duration
	now        func() time.Time
	observer   Observer
	log        *slog.Logger
	near       nearCache
	// lastWarn throttles the "cache failed" warning to one per warnEvery:
	// during a Redis outage every lookup falls back, and one line says it.
	lastWarn atomic.Int64
}

const warnEvery = 10 * time.Second

func (s *Service) warnCache(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(warnEvery) || !s.lastWarn.CompareAndSwap(last, now) {
		return
	}
	s.log.WarnContext(ctx, "rate cache failed; reading PostgreSQL (repeats suppressed for 10s)", "error", err.Error())
}

// Options configure a Service.
type Options struct {
	Provider   string
	StaleAfter time.Duration
	Now        func() time.Time
	Observer   Observer
	Log        *slog.Logger
	// NearCacheTTL bounds the age of the in-process copy of the latest
	// rates (see nearCache); zero reads Redis on every lookup.
	NearCacheTTL time.Duration
}

// New returns a Service reading st and c.
func New(st *store.Store, c *cache.Cache, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	svc := &Service{provider: o.Provider, store: st, cache: c, staleAfter: o.StaleAfter, now: o.Now, observer: o.Observer, log: o.Log}
	svc.near.ttl = o.NearCacheTTL
	return svc
}

// Provider returns the provider the service reads.
func (s *Service) Provider() string { return s.provider }

func (s *Service) observe(src Source, err error) {
	if s.observer != nil {
		s.observer.Lookup(src, err)
	}
}

func (s *Service) result(q fx.Quote, src Source) Result {
	r := Result{Quote: q, Source: src}
	if len(q.Legs) == 0 { // from == to: timeless
		r.Provider = s.provider
		r.AsOf = s.now().UTC()
		r.FetchedAt = r.AsOf
		return r
	}
	r.Age = s.now().Sub(q.AsOf)
	if r.Age < 0 {
		r.Age = 0
	}
	r.Stale = r.Age > s.staleAfter
	return r
}

// neededQuotes lists the base→X rates DeriveQuote will ask for.
func neededQuotes(from, to, base string) []string {
	switch {
	case from == to:
		return nil
	case from == base:
		return []string{to}
	case to == base:
		return []string{from}
	}
	return []string{to, from}
}

// Latest returns the newest from→to rate. It reads Redis and touches
// PostgreSQL only when Redis lacks a leg or fails; a Redis failure is
// logged and observed, never returned.
func (s *Service) Latest(ctx context.Context, from, to string) (Result, error) {
	if from == to {
		q, _ := fx.DeriveQuote(from, to, "", nil)
		return s.result(q, FromCache), nil
	}
	q, err := s.latestFromCache(ctx, from, to)
	if err == nil {
		s.observe(FromCache, nil)
		return s.result(q, FromCache), nil
	}
	if !errors.Is(err, cache.ErrMiss) {
		s.warnCache(ctx, err)
	}
	s.observe(FromDatabase, err)
	q, err = s.quoteAt(ctx, from, to, time.Time{})
	if err != nil {
		return Result{}, err
	}
	return s.result(q, FromDatabase), nil
}

func (s *Service) latestFromCache(ctx context.Context, from, to string) (fx.Quote, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return fx.Quote{}, err
	}
	q, err := fx.DeriveQuote(from, to, snap.base, func(q string) (fx.Rate, bool) { r, ok := snap.rates[q]; return r, ok })
	if err != nil {
		// A pair the cache cannot price may still be in PostgreSQL.
		return fx.Quote{}, cache.ErrMiss
	}
	return q, nil
}

// At returns the from→to rate in force at the instant at: derived from the
// newest stored rows with as_of ≤ at. It always reads PostgreSQL.
func (s *Service) At(ctx context.Context, from, to string, at time.Time) (Result, error) {
	if from == to {
		q, _ := fx.DeriveQuote(from, to, "", nil)
		return s.result(q, FromDatabase), nil
	}
	q, err := s.quoteAt(ctx, from, to, at)
	if err != nil {
		return Result{}, err
	}
	r := s.result(q, FromDatabase)
	// Freshness describes the latest rate; a historical answer is what it is.
	r.Stale, r.Age = false, at.Sub(q.AsOf)
	return r, nil
}

func (s *Service) quoteAt(ctx context.Context, from, to string, at time.Time) (fx.Quote, error) {
	base, err := s.store.ProviderBase(ctx, s.provider, at)
	if err != nil {
		if errors.Is(err, fx.ErrNoRates) && !at.IsZero() {
			return fx.Quote{}, fmt.Errorf("%w: nothing stored on or before %s", fx.ErrRateNotFound, at.UTC().Format(time.RFC3339))
		}
		return fx.Quote{}, err
	}
	legs := map[string]fx.Rate{}
	for _, code := range neededQuotes(from, to, base) {
		r, err := s.store.RateAt(ctx, s.provider, base, code, at)
		if errors.Is(err, fx.ErrRateNotFound) {
			continue // DeriveQuote names the missing leg
		}
		if err != nil {
			return fx.Quote{}, err
		}
		legs[code] = r
	}
	return fx.DeriveQuote(from, to, base, func(q string) (fx.Rate, bool) { r, ok := legs[q]; return r, ok })
}

// All returns from→X for every currency X the provider's latest data can
// price, sorted by X. It reads Redis, and PostgreSQL when Redis fails.
func (s *Service) All(ctx context.Context, from string) ([]Result, error) {
	base, rates, src, err := s.latestSet(ctx)
	if err != nil {
		return nil, err
	}
	get := func(q string) (fx.Rate, bool) { r, ok := rates[q]; return r, ok }
	if from != base {
		if _, ok := rates[from]; !ok {
			return nil, fmt.Errorf("%w: %s does not quote %s", fx.ErrRateNotFound, s.provider, from)
		}
	}
	targets := make([]string, 0, len(rates)+1)
	if from != base {
		targets = append(targets, base)
	}
	for q := range rates {
		if q != from {
			targets = append(targets, q)
		}
	}
	sort.Strings(targets)
	out := make([]Result, 0, len(targets))
	for _, to := range targets {
		q, err := fx.DeriveQuote(from, to, base, get)
		if err != nil {
			return nil, err
		}
		out = append(out, s.result(q, src))
	}
	return out, nil
}

// latestSet returns the provider's latest rate for every quote.
func (s *Service) latestSet(ctx context.Context) (string, map[string]fx.Rate, Source, error) {
	snap, err := s.snapshot(ctx)
	if err == nil {
		s.observe(FromCache, nil)
		return snap.base, snap.rates, FromCache, nil
	}
	if !errors.Is(err, cache.ErrMiss) {
		s.warnCache(ctx, err)
	}
	s.observe(FromDatabase, err)
	base, err := s.store.ProviderBase(ctx, s.provider, time.Time{})
	if err != nil {
		return "", nil, "", err
	}
	list, err := s.store.LatestRates(ctx, s.provider, base, time.Time{})
	if err != nil {
		return "", nil, "", err
	}
	all := make(map[string]fx.Rate, len(list))
	for _, r := range list {
		all[r.Quote] = r
	}
	return base, all, FromDatabase, nil
}

// Currencies returns the currencies the provider's latest data can price.
func (s *Service) Currencies(ctx context.Context) ([]fx.Currency, error) {
	base, rates, _, err := s.latestSet(ctx)
	if err != nil {
		return nil, err
	}
	codes := []string{base}
	for q := range rates {
		codes = append(codes, q)
	}
	sort.Strings(codes)
	out := make([]fx.Currency, 0, len(codes))
	for _, c := range codes {
		if cur, ok := fx.LookupCurrency(c); ok {
			out = append(out, cur)
		}
	}
	return out, nil
}

// History returns the from→to series published in [start, end), oldest
// first: one point per publication for which every leg was published.
func (s *Service) History(ctx context.Context, from, to string, start, end time.Time) ([]fx.Quote, error) {
	if from == to {
		return nil, nil
	}
	base, err := s.store.ProviderBase(ctx, s.provider, time.Time{})
	if err != nil {
		return nil, err
	}
	need := neededQuotes(from, to, base)
	byAsOf := map[int64]map[string]fx.Rate{}
	var times []int64
	for _, code := range need {
		rows, err := s.store.History(ctx, s.provider, base, code, start, end)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			k := r.AsOf.UnixNano()
			if byAsOf[k] == nil {
				byAsOf[k] = map[string]fx.Rate{}
				times = append(times, k)
			}
			byAsOf[k][code] = r
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	out := make([]fx.Quote, 0, len(times))
	for _, k := range times {
		legs := byAsOf[k]
		if len(legs) != len(need) {
			continue // one leg missing at this publication: no cross rate
		}
		q, err := fx.DeriveQuote(from, to, base, func(c string) (fx.Rate, bool) { r, ok := legs[c]; return r, ok })
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	if len(out) == 0 {
		// An empty series of a pair the provider never quoted is a 404, not [].
		if _, err := s.quoteAt(ctx, from, to, time.Time{}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
