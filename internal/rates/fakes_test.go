package rates_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/rates"
	"ces/internal/store"
)

// rateStore is PostgreSQL's released exchange_rates as the Service reads
// them (*store.Rates): the rows it was given, the newest of each series
// answering for it. err fails every read; calls records them.
type rateStore struct {
	mu    sync.Mutex
	rows  []fx.Rate
	err   error
	calls []string
}

func (s *rateStore) read(call string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	return s.err
}

func (s *rateStore) called() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// newest returns, for each series of providers (all when none) that keep
// accepts, its newest row with as_of ≤ at (zero: no bound), in the order
// the series were first given.
func (s *rateStore) newest(providers []string, at time.Time, keep func(fx.Rate) bool) []fx.Rate {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := map[policy.Series]int{}
	var out []fx.Rate
	for _, r := range s.rows {
		if len(providers) > 0 && !slices.Contains(providers, r.Provider) || !at.IsZero() && r.AsOf.After(at) || !keep(r) {
			continue
		}
		i, ok := best[policy.SeriesOf(r)]
		switch {
		case !ok:
			best[policy.SeriesOf(r)] = len(out)
			out = append(out, r)
		case r.AsOf.After(out[i].AsOf):
			out[i] = r
		}
	}
	return out
}

func (s *rateStore) LatestServable(_ context.Context, providers, codes []string, at time.Time) ([]fx.Rate, error) {
	if err := s.read(fmt.Sprintf("LatestServable %v %v", providers, codes)); err != nil {
		return nil, err
	}
	return s.newest(providers, at, func(r fx.Rate) bool {
		return len(codes) == 0 || slices.Contains(codes, r.Base) || slices.Contains(codes, r.Quote)
	}), nil
}

func (s *rateStore) LatestServablePair(_ context.Context, providers []string, a, b string, at time.Time) ([]fx.Rate, error) {
	if err := s.read(fmt.Sprintf("LatestServablePair %v %s/%s", providers, a, b)); err != nil {
		return nil, err
	}
	return s.newest(providers, at, func(r fx.Rate) bool {
		return r.Base == a && r.Quote == b || r.Base == b && r.Quote == a
	}), nil
}

func (s *rateStore) History(_ context.Context, provider, base, quote string, start, end time.Time) ([]fx.Rate, error) {
	if err := s.read(fmt.Sprintf("History %s %s/%s", provider, base, quote)); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []fx.Rate
	for _, r := range s.rows {
		if r.Provider == provider && r.Base == base && r.Quote == quote && !r.AsOf.Before(start) && r.AsOf.Before(end) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b fx.Rate) int { return a.AsOf.Compare(b.AsOf) })
	return out, nil
}

func (s *rateStore) Coverage(_ context.Context, providers []string) ([]store.Span, error) {
	if err := s.read("Coverage"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	spans := map[policy.Series]*store.Span{}
	var order []policy.Series
	for _, r := range s.rows {
		if len(providers) > 0 && !slices.Contains(providers, r.Provider) {
			continue
		}
		k := policy.SeriesOf(r)
		sp, ok := spans[k]
		if !ok {
			sp = &store.Span{Provider: r.Provider, Base: r.Base, Quote: r.Quote, First: r.AsOf, Last: r.AsOf}
			spans[k] = sp
			order = append(order, k)
		}
		if r.AsOf.Before(sp.First) {
			sp.First = r.AsOf
		}
		if r.AsOf.After(sp.Last) {
			sp.Last = r.AsOf
		}
	}
	out := make([]store.Span, len(order))
	for i, k := range order {
		out[i] = *spans[k]
	}
	return out, nil
}

func (s *rateStore) StateAt(_ context.Context, provider string, at time.Time) ([]fx.Rate, error) {
	if err := s.read("StateAt " + provider); err != nil {
		return nil, err
	}
	return s.newest([]string{provider}, at, func(fx.Rate) bool { return true }), nil
}

func (s *rateStore) Publications(_ context.Context, provider string, from time.Time) ([]time.Time, error) {
	if err := s.read("Publications " + provider); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, r := range s.rows {
		if r.Provider == provider && !r.AsOf.Before(from) && !slices.ContainsFunc(out, r.AsOf.Equal) {
			out = append(out, r.AsOf)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out, nil
}

// standing is the quality gate's and the operators' tables as the Service
// reads them (*store.Quality): what it was given. err fails every read.
type standing struct {
	mu        sync.Mutex
	held      map[policy.Series]time.Time
	suspended []store.Suspension
	err       error
	calls     []string
}

func (s *standing) HeldSeries(context.Context) (map[policy.Series]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "HeldSeries")
	if s.err != nil {
		return nil, s.err
	}
	out := make(map[policy.Series]time.Time, len(s.held))
	for k, v := range s.held {
		out[k] = v
	}
	return out, nil
}

func (s *standing) Suspensions(context.Context) ([]store.Suspension, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "Suspensions")
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.suspended), nil
}

func (s *standing) called() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// memCache is Redis as the Service uses it (*cache.Cache): each
// provider's latest rate per series, and the held series and suspended
// pairs with when they were read from PostgreSQL (a zero time: the cache
// does not hold them, cache.ErrMiss). SetLatest keeps a cached rate newer
// than the one given, as the real script does; ReplaceLatest does not.
// err fails every call; calls records them.
type memCache struct {
	mu          sync.Mutex
	latest      map[string]map[[2]string]fx.Rate
	held        map[policy.Series]time.Time
	heldAt      time.Time
	suspended   map[string]bool
	suspendedAt time.Time
	err         error
	calls       []string
}

func (c *memCache) call(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name)
	return c.err
}

func (c *memCache) called() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func (c *memCache) count(name string) int {
	n := 0
	for _, call := range c.called() {
		if call == name {
			n++
		}
	}
	return n
}

// put writes rates under provider, replacing a newer cached rate only if
// replace; it returns how many it changed.
func (c *memCache) put(provider string, rates []fx.Rate, replace bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest == nil {
		c.latest = map[string]map[[2]string]fx.Rate{}
	}
	if c.latest[provider] == nil {
		c.latest[provider] = map[[2]string]fx.Rate{}
	}
	n := 0
	for _, r := range rates {
		k := [2]string{r.Base, r.Quote}
		if old, ok := c.latest[provider][k]; ok && !replace && old.AsOf.After(r.AsOf) {
			continue
		}
		c.latest[provider][k] = r
		n++
	}
	return n
}

func (c *memCache) Latest(_ context.Context, providers []string) (map[string][]fx.Rate, error) {
	if err := c.call("Latest"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]fx.Rate{}
	for _, p := range providers {
		for _, r := range c.latest[p] {
			out[p] = append(out[p], r)
		}
	}
	return out, nil
}

func (c *memCache) SetLatest(_ context.Context, provider string, rates []fx.Rate, _ string) (int, error) {
	if err := c.call("SetLatest " + provider); err != nil {
		return 0, err
	}
	return c.put(provider, rates, false), nil
}

func (c *memCache) ReplaceLatest(_ context.Context, provider string, rates []fx.Rate) (int, error) {
	if err := c.call("ReplaceLatest " + provider); err != nil {
		return 0, err
	}
	return c.put(provider, rates, true), nil
}

func (c *memCache) Held(context.Context) (map[policy.Series]time.Time, time.Time, error) {
	if err := c.call("Held"); err != nil {
		return nil, time.Time{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heldAt.IsZero() {
		return nil, time.Time{}, cache.ErrMiss
	}
	out := make(map[policy.Series]time.Time, len(c.held))
	for k, v := range c.held {
		out[k] = v
	}
	return out, c.heldAt, nil
}

func (c *memCache) SetHeld(_ context.Context, held map[policy.Series]time.Time, readAt time.Time) error {
	if err := c.call("SetHeld"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held, c.heldAt = held, readAt
	return nil
}

func (c *memCache) Suspensions(context.Context) (map[string]bool, time.Time, error) {
	if err := c.call("Suspensions"); err != nil {
		return nil, time.Time{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.suspendedAt.IsZero() {
		return nil, time.Time{}, cache.ErrMiss
	}
	out := make(map[string]bool, len(c.suspended))
	for k, v := range c.suspended {
		out[k] = v
	}
	return out, c.suspendedAt, nil
}

func (c *memCache) SetSuspensions(_ context.Context, pairs []string, readAt time.Time) error {
	if err := c.call("SetSuspensions"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.suspended = map[string]bool{}
	for _, p := range pairs {
		c.suspended[p] = true
	}
	c.suspendedAt = readAt
	return nil
}

func (c *memCache) Watch(ctx context.Context, _ func(string)) { <-ctx.Done() }

// observer records where each lookup was served from.
type observer struct {
	mu      sync.Mutex
	sources []string
}

func (o *observer) Lookup(source rates.Source, cacheErr error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sources = append(o.sources, fmt.Sprintf("%s %t", source, cacheErr != nil))
}
