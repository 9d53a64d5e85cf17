// Package rates answers rate questions for the API and for conversions,
// across every configured provider at once: latest rates from an
// in-process copy of Redis with PostgreSQL as the fallback, rates in force
// at an instant and series from PostgreSQL. Which stored rows price a pair
// is decided by the source policy (policy.Book.Route) and nothing else.
package rates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/tracing"
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
	Stale bool
	// UnderReview says a leg's series has a newer publication the quality
	// gate holds: the answer is shown, never converted (see policy.Price).
	UnderReview bool
	Age         time.Duration
	Source      Source
	// Slot, when not nil, is shared by every Result of one memoized
	// answer (a snapshot's route, an at= memo): a caller keeps there what
	// it derives from the answer, such as the API's encoded body.
	Slot *Slot
}

// Slot holds one value a caller derives from a memoized answer; it
// lives as long as the answer's memo. The zero value is empty; a nil
// Slot holds nothing and keeps nothing.
type Slot struct{ v atomic.Value }

// Load returns the value stored, or nil.
func (s *Slot) Load() any {
	if s == nil {
		return nil
	}
	return s.v.Load()
}

// Store keeps v (always of one concrete type per caller).
func (s *Slot) Store(v any) {
	if s != nil {
		s.v.Store(v)
	}
}

// RateStore reads released rates from PostgreSQL (*store.Rates).
type RateStore interface {
	StateAt(ctx context.Context, provider string, at time.Time) ([]fx.Rate, error)
	Publications(ctx context.Context, provider string, from time.Time) ([]time.Time, error)
	LatestServable(ctx context.Context, providers, codes []string, at time.Time) ([]fx.Rate, error)
	LatestServablePair(ctx context.Context, providers []string, a, b string, at time.Time) ([]fx.Rate, error)
	History(ctx context.Context, provider, base, quote string, start, end time.Time) ([]fx.Rate, error)
	Coverage(ctx context.Context, providers []string) ([]store.Span, error)
}

// Standing reads what the quality gate and the operators keep out of
// pricing (*store.Quality): series whose newest publication is held, and
// suspended pairs.
type Standing interface {
	HeldSeries(ctx context.Context) (map[policy.Series]time.Time, error)
	Suspensions(ctx context.Context) ([]store.Suspension, error)
}

// Cache is the shared copy of the latest rates and of the standing, kept
// in Redis (*cache.Cache), with its announcements of updates.
type Cache interface {
	Latest(ctx context.Context, providers []string) (map[string][]fx.Rate, error)
	SetLatest(ctx context.Context, provider string, rates []fx.Rate, writer string) (int, error)
	ReplaceLatest(ctx context.Context, provider string, rates []fx.Rate) (int, error)
	Held(ctx context.Context) (map[policy.Series]time.Time, time.Time, error)
	SetHeld(ctx context.Context, held map[policy.Series]time.Time, readAt time.Time) error
	Suspensions(ctx context.Context) (map[string]bool, time.Time, error)
	SetSuspensions(ctx context.Context, pairs []string, readAt time.Time) error
	Watch(ctx context.Context, onUpdate func(provider string))
}

// Service answers rate questions about the configured providers.
type Service struct {
	providers []string
	// priority is the operator's order of providers (FX_SOURCE_PRIORITY);
	// nil follows authority.
	priority   []string
	authority  *policy.Authority
	store      RateStore
	standing   Standing
	cache      Cache
	staleAfter func(provider string) time.Duration
	now        func() time.Time
	observer   Observer
	log        *slog.Logger
	near       nearCache
	// past answers at= and history from memory once it listens (nil:
	// always from PostgreSQL).
	past *past
	// repairs shares one cache repair per provider; repaired holds when
	// each provider was last repaired (see Repair).
	repairs  singleflight.Group
	repaired sync.Map
	// healthReader, when set, reads publishers' health checks;
	// healthCopy keeps them (see health).
	healthReader HealthReader
	healthCopy   healthCopy
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
	// Providers are the providers served. Authority is the default source
	// policy (the issuer of each currency first, then its peg, then the
	// reference publisher, then the rest); Priority, when set, overrides
	// it with an order of providers (FX_SOURCE_PRIORITY). Without either,
	// Providers is the order.
	Providers []string
	Priority  []string
	Authority *policy.Authority
	// StaleAfter is how old each provider's rates may grow before they
	// are marked stale.
	StaleAfter func(provider string) time.Duration
	Now        func() time.Time
	Observer   Observer
	Log        *slog.Logger
	// NearCacheTTL bounds the age of the in-process copy of the latest
	// rates (see nearCache); zero reads Redis on every lookup.
	NearCacheTTL time.Duration
	// HistoryCacheBytes bounds the memory of the history cache (see past);
	// zero answers every historical question from PostgreSQL.
	HistoryCacheBytes int64
	// Listen is where the history cache listens for changes (default: the
	// rate store, which must then be a ChangeListener), so that the
	// listening connection can be one of its own rather than one of the
	// pool's. New panics when HistoryCacheBytes is set and there is none.
	Listen ChangeListener
	// Health reads each publisher's newest health check: a silent
	// publisher's rates are stale in every answer judged from that check
	// on, whatever StaleAfter says (nil: no publisher is ever silent).
	Health HealthReader
}

// HistoryStatesPerAnswer is how many publications of one provider a
// history answer reads from the history cache; a range holding more (a
// month of hourly rates) is one indexed range scan in PostgreSQL instead,
// so one client's long range cannot evict everyone's cached instants.
const HistoryStatesPerAnswer = 64

// New returns a Service reading released rates from st, the standing
// from q and both through c.
func New(st RateStore, q Standing, c Cache, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Priority == nil && o.Authority == nil {
		o.Priority = o.Providers
	}
	if o.StaleAfter == nil {
		o.StaleAfter = func(string) time.Duration { return 97 * time.Hour }
	}
	svc := &Service{providers: o.Providers, priority: o.Priority, authority: o.Authority, store: st, standing: q, cache: c, staleAfter: o.StaleAfter,
		now: o.Now, observer: o.Observer, log: o.Log, healthReader: o.Health}
	svc.near.ttl = o.NearCacheTTL
	if o.HistoryCacheBytes > 0 {
		changes := o.Listen
		if changes == nil {
			changes, _ = st.(ChangeListener)
		}
		if changes == nil {
			// Without one the cache could never learn of a backfill or a
			// release and would answer stale history: refuse the wiring.
			panic("rates: HistoryCacheBytes needs Options.Listen or a RateStore that can listen")
		}
		svc.past = newPast(st, changes, o.Providers, o.HistoryCacheBytes)
	}
	return svc
}

func (s *Service) observe(src Source, err error) {
	if s.observer != nil {
		s.observer.Lookup(src, err)
	}
}

// result is a priced quote as answered at the instant at (now for the
// latest rate): its age is measured from there.
func (s *Service) result(p policy.Priced, src Source, at time.Time) Result {
	r := Result{Quote: p.Quote, Stale: p.Stale, UnderReview: p.UnderReview, Source: src}
	if len(p.Legs) == 0 { // from == to: timeless
		r.AsOf = at.UTC()
		r.FetchedAt = r.AsOf
		return r
	}
	r.Age = max(at.Sub(p.AsOf), 0)
	return r
}

// pin checks a provider a client asked for.
func (s *Service) pin(only string) error {
	if only != "" && !slices.Contains(s.providers, only) {
		return fmt.Errorf("%w: %q is not served here; providers: %v", fx.ErrUnknownProvider, only, s.providers)
	}
	return nil
}

// current refuses withdrawn currencies: a latest rate of a currency that
// no longer exists is not a price. History still serves them.
func current(codes ...string) error {
	for _, c := range codes {
		if cur, ok := fx.LookupCurrency(c); ok && cur.Withdrawn {
			return fmt.Errorf("%w: %s is withdrawn from ISO 4217; ask for at= or history for the dates it existed", fx.ErrInvalidCurrency, c)
		}
	}
	return nil
}

// Latest returns the newest from→to rate by the source policy (only set:
// from that provider alone). It reads the in-process copy of Redis and
// touches PostgreSQL only when Redis fails or lacks a provider.
func (s *Service) Latest(ctx context.Context, from, to, only string) (Result, error) {
	if err := s.pin(only); err != nil {
		return Result{}, err
	}
	if err := current(from, to); err != nil {
		return Result{}, err
	}
	now := s.now()
	if from == to {
		return s.result(identity(from), FromCache, now), nil
	}
	snap, err := s.latest(ctx)
	if err != nil {
		return Result{}, err
	}
	if snap.suspended[store.SuspendedKey(from, to)] {
		return Result{}, fmt.Errorf("%w: an operator suspended %s/%s; conversions and latest lookups are refused until it is resumed", fx.ErrPairSuspended, from, to)
	}
	p, slot, err := snap.route(from, to, s.priority, only)
	if err != nil {
		return Result{}, err
	}
	r := s.result(p, snap.source, now)
	r.Slot = slot
	return r, nil
}

func identity(code string) policy.Priced {
	q, _ := policy.NewBook(nil).Route(code, code, nil, "")
	return policy.Priced{Quote: q}
}

// route applies the source policy with freshness and review
// (policy.Books.Price). Answers are memoized in the snapshot; callers
// share their legs.
func (snap *snapshot) route(from, to string, priority []string, only string) (policy.Priced, *Slot, error) {
	key := routeKey{from, to, only}
	if r, ok := snap.routes.Load(key); ok {
		return r.(routed).p, r.(routed).slot, r.(routed).err
	}
	p, err := snap.books.Price(from, to, priority, only)
	if snap.nroutes.Add(1) <= maxRoutes {
		slot := &Slot{}
		snap.routes.Store(key, routed{p, err, slot})
		return p, slot, err
	}
	return p, nil, err
}

// unavailable marks a PostgreSQL failure as the domain's database error
// (503 database_unavailable), never an internal error: the client can
// retry, and the cause is logged, not shown.
func unavailable(err error) error {
	if errors.Is(err, fx.ErrDatabaseUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", fx.ErrDatabaseUnavailable, err)
}

// latest returns the snapshot of the latest rates, observing its source.
// It fails only when neither Redis nor PostgreSQL can give them.
func (s *Service) latest(ctx context.Context) (*snapshot, error) {
	ctx, span := tracing.Start(ctx, "rates.latest")
	defer span.End()
	snap, err := s.snapshot(ctx)
	if err != nil {
		span.Fail(err)
		return nil, unavailable(err)
	}
	s.observe(snap.source, snap.cacheErr)
	if snap.books.All().Empty() {
		return nil, fx.ErrNoRates
	}
	return snap, nil
}

// At returns the from→to rate in force at the instant at: the source
// policy applied to the newest released rows with as_of ≤ at, with
// freshness judged at at. An instant in the future is answered as of now.
func (s *Service) At(ctx context.Context, from, to string, at time.Time, only string) (Result, error) {
	if err := s.pin(only); err != nil {
		return Result{}, err
	}
	future := false
	if now := s.now(); at.After(now) {
		// Nothing is known of the future: it is answered as of now.
		at, future = now.UTC(), true
	}
	// An answer, and a refusal alike, depends only on each provider's
	// last publication on or before at, at itself and the publishers'
	// health: it is memoized under those until stored history next
	// changes, so a repeated question (and a repeated 404) costs a lookup.
	// Answers as of now are not: each asks about another instant.
	_, silent, healthVersion := s.healthVersion(ctx)
	var key string
	var gen uint64
	memoized := false
	if from != to && !future {
		provs := s.providers
		if only != "" {
			provs = []string{only}
		}
		var buf [128]byte
		var b []byte
		if b, gen, memoized = s.past.appendAtKey(append(buf[:0], "answer "...), provs, from, to, at, only); memoized {
			b = strconv.AppendInt(append(b, ' '), at.UnixNano(), 36)
			b = strconv.AppendUint(append(b, ' '), healthVersion, 36)
			key = string(b)
			if v, hit := s.past.recall(key, gen); hit {
				a := v.(answerAt)
				return a.r, a.err
			}
		}
	}
	r, err := s.at(ctx, from, to, at, only, silent)
	if memoized && !errors.Is(err, fx.ErrDatabaseUnavailable) {
		if err == nil {
			r.Slot = &Slot{}
		}
		s.past.remember(key, gen, answerAt{r, err}, uint32(256+len(key)+200*len(r.Legs)))
	}
	return r, err
}

// answerAt is a memoized answer of At.
type answerAt struct {
	r   Result
	err error
}

// at is At's answer, computed.
func (s *Service) at(ctx context.Context, from, to string, at time.Time, only string, silent map[string]time.Time) (Result, error) {
	p, empty, err := s.routeAt(ctx, from, to, at, only, silent)
	if errors.Is(err, fx.ErrDatabaseUnavailable) {
		return Result{}, err
	}
	if err != nil {
		if from != to && empty {
			return Result{}, fmt.Errorf("%w: nothing stored for %s/%s on or before %s", fx.ErrRateNotFound, from, to, at.UTC().Format(time.RFC3339))
		}
		return Result{}, fmt.Errorf("%w (with the rates in force at %s)", err, at.UTC().Format(time.RFC3339))
	}
	return s.result(p, FromDatabase, at), nil
}

// routeAt applies the source policy to the rows in force at at; empty
// says no row could take part. Answers from memory are memoized until
// the next change to stored history (past.memo).
func (s *Service) routeAt(ctx context.Context, from, to string, at time.Time, only string, silent map[string]time.Time) (p policy.Priced, empty bool, err error) {
	standing := policy.Standing{At: at, StaleAfter: s.staleAfter, Silent: silent}
	price := func(books *policy.Books) (policy.Priced, bool, error) {
		p, err := books.Price(from, to, s.priority, only)
		return p, books.All().Empty(), err
	}
	if from == to {
		return price(policy.NewBooks(nil, standing, s.authority))
	}
	provs := s.providers
	if only != "" {
		provs = []string{only}
	}
	// The rows in force depend only on each provider's last publication
	// on or before at, so they are memoized under those; freshness is
	// judged at at itself, so the policy runs on every answer.
	key, gen, ok := s.past.atKey(provs, from, to, at, only)
	if ok {
		if v, hit := s.past.recall(key, gen); hit {
			return price(policy.NewBooks(v.([]fx.Rate), standing, s.authority))
		}
		rows, err := s.past.rows(ctx, provs, from, to, at)
		switch {
		case err == nil:
			s.past.remember(key, gen, rows, uint32(256+200*len(rows)))
			return price(policy.NewBooks(rows, standing, s.authority))
		case !errors.Is(err, errNotReady):
			return policy.Priced{}, false, unavailable(err)
		}
	}
	books, err := s.bookAt(ctx, standing, from, to, only)
	if err != nil {
		return policy.Priced{}, false, err
	}
	return price(books)
}

// bookAt reads from PostgreSQL the rows in force at at that can take
// part in pricing from→to (every leg the policy can use touches one of
// the two), judged by standing (at standing.At). History has no review:
// what was released then is what it is.
func (s *Service) bookAt(ctx context.Context, standing policy.Standing, from, to, only string) (*policy.Books, error) {
	at := standing.At
	provs := s.providers
	if only != "" {
		provs = []string{only}
	}
	// The policy tries a fresh direct or inverse rate before anything
	// else, so when the pair's own series price it fresh, the rows of every
	// series touching from or to (all of a single-base provider's) would
	// give the same answer: read those only when they are needed.
	rows, err := s.store.LatestServablePair(ctx, provs, from, to, at)
	if err != nil {
		return nil, unavailable(err)
	}
	books := policy.NewBooks(rows, standing, s.authority)
	if p, err := books.Price(from, to, s.priority, only); err == nil && !p.Stale {
		return books, nil
	}
	rows, err = s.store.LatestServable(ctx, provs, []string{from, to}, at)
	if err != nil {
		return nil, unavailable(err)
	}
	// A cross across providers needs, besides the legs touching from and
	// to, nothing else: both of its legs touch one of them.
	return policy.NewBooks(rows, standing, s.authority), nil
}

// All returns from→X for every currency X the latest data can price,
// sorted by X; withdrawn and suspended pairs are left out.
func (s *Service) All(ctx context.Context, from, only string) ([]Result, error) {
	if err := s.pin(only); err != nil {
		return nil, err
	}
	if err := current(from); err != nil {
		return nil, err
	}
	snap, err := s.latest(ctx)
	if err != nil {
		return nil, err
	}
	book := snap.books.All()
	if len(book.Providers(from)) == 0 {
		return nil, fmt.Errorf("%w: no provider quotes %s", fx.ErrRateNotFound, from)
	}
	now := s.now()
	var out []Result
	for _, to := range book.Currencies() {
		if to == from || current(to) != nil || snap.suspended[store.SuspendedKey(from, to)] {
			continue
		}
		p, _, err := snap.route(from, to, s.priority, only)
		if err != nil {
			continue // not priceable under the pin: not listed
		}
		out = append(out, s.result(p, snap.source, now))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: nothing can be priced from %s", fx.ErrRateNotFound, from)
	}
	return out, nil
}

// Currency is a currency some provider quotes, with those providers.
// Default is the provider whose rate prices it by default (see
// Currencies).
type Currency struct {
	fx.Currency
	Providers []string
	Default   string
	// Since is the first as_of stored of it by any configured provider,
	// held rows included.
	Since time.Time
}

// Currencies returns every currency the latest data quotes, with the
// providers that quote it and the one the source policy prices it from
// by default, all from the latest rates in memory. The default is the provider of
// the leg that touches the currency in its latest rate against USD (the
// euro for USD itself), as a conversion would be priced now. Since is
// read with the publishers' coverage, from PostgreSQL once per change of
// stored history (see Memoize).
func (s *Service) Currencies(ctx context.Context) ([]Currency, error) {
	snap, err := s.latest(ctx)
	if err != nil {
		return nil, err
	}
	covered, err := s.coverage(ctx)
	if err != nil {
		return nil, err
	}
	book := snap.books.All()
	var out []Currency
	for _, c := range book.Currencies() {
		cur, ok := fx.LookupCurrency(c)
		if !ok {
			continue
		}
		out = append(out, Currency{Currency: cur, Providers: book.Providers(c), Default: s.defaultFor(snap, c), Since: covered.since[c]})
	}
	return out, nil
}

// defaultFor names the provider that prices code by default in snap: the
// one of the leg touching code in its route against USD (the euro for
// USD itself), as Latest would price it; "" when none prices it now (a
// withdrawn code, a suspended pair, no route). It reads the snapshot's
// memoized routes directly, so listing currencies counts no lookups.
func (s *Service) defaultFor(snap *snapshot, code string) string {
	ref := "USD"
	if code == ref {
		ref = "EUR"
	}
	if current(code, ref) != nil || snap.suspended[store.SuspendedKey(code, ref)] {
		return ""
	}
	p, _, err := snap.route(code, ref, s.priority, "")
	if err != nil {
		return ""
	}
	for _, l := range p.Legs {
		if l.Base == code || l.Quote == code {
			return l.Provider
		}
	}
	return ""
}

// History returns the from→to series published in [start, end), oldest
// first. The legs are chosen once, by the source policy applied to the
// rows in force at end; a pair priced by one provider gives one point per
// publication, a pair priced across providers one point per UTC day on
// which both published (as_of: the older leg).
func (s *Service) History(ctx context.Context, from, to string, start, end time.Time, only string) ([]fx.Quote, error) {
	if err := s.pin(only); err != nil {
		return nil, err
	}
	if from == to {
		return nil, nil
	}
	// The legs are those in force at the end of the range, or now if it
	// ends later: a range ending today must not judge today's fresh
	// sources stale at midnight.
	asked := end
	if now := s.now(); asked.After(now) {
		asked = now
	}
	_, silent := s.health(ctx)
	route, _, err := s.routeAt(ctx, from, to, asked, only, silent)
	if err != nil {
		return nil, err
	}
	series := make([][]fx.Rate, len(route.Legs))
	for i, l := range route.Legs {
		if series[i], err = s.series(ctx, l, start, end); err != nil {
			return nil, unavailable(err)
		}
	}
	var points [][]fx.Rate
	switch {
	case len(series) == 1:
		for _, r := range series[0] {
			points = append(points, []fx.Rate{r})
		}
	case route.Legs[0].Provider == route.Legs[1].Provider:
		points = join(series, func(r fx.Rate) int64 { return r.AsOf.UnixNano() })
	default:
		points = join(series, func(r fx.Rate) int64 { return r.AsOf.UTC().Truncate(24 * time.Hour).Unix() })
	}
	out := make([]fx.Quote, 0, len(points))
	for _, legs := range points {
		v, err := policy.Recompute(from, to, route.Rule, legs)
		if err != nil {
			return nil, err
		}
		q := fx.Quote{From: from, To: to, Value: v, Rule: route.Rule, Via: route.Via, Provider: route.Provider, Legs: legs}
		q.AsOf, q.FetchedAt = legs[0].AsOf, legs[0].FetchedAt
		for _, l := range legs[1:] {
			if l.AsOf.Before(q.AsOf) {
				q.AsOf = l.AsOf
			}
			if l.FetchedAt.Before(q.FetchedAt) {
				q.FetchedAt = l.FetchedAt
			}
		}
		out = append(out, q)
	}
	if len(out) == 0 {
		// An empty 200 would name no source and no rule: say why instead.
		return nil, fmt.Errorf("%w: %s published no rate that prices %s/%s (rule %s) between %s and %s",
			fx.ErrRateNotFound, route.Provider, from, to, route.Rule, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	return out, nil
}

// series reads one leg's released rows published in [start, end): from
// the history cache when the range holds few publications, else from
// PostgreSQL.
func (s *Service) series(ctx context.Context, leg fx.Rate, start, end time.Time) ([]fx.Rate, error) {
	if s.past != nil {
		rows, ok, err := s.past.series(ctx, leg.Provider, leg.Base, leg.Quote, start, end, HistoryStatesPerAnswer)
		if err != nil || ok {
			return rows, err
		}
	}
	return s.store.History(ctx, leg.Provider, leg.Base, leg.Quote, start, end)
}

// Memoize returns compute's value for key, computed at most once per
// generation of stored history while the history cache serves (see
// past.memo), so that a caller can keep what it derives from historical
// answers, such as an encoded response; size is its estimated bytes.
// compute runs every time when the cache is off or not serving, and an
// error is never kept.
func (s *Service) Memoize(key string, compute func() (any, uint32, error)) (any, error) {
	key, gen, ok := s.past.memoKey("memo " + key)
	if ok {
		if v, hit := s.past.recall(key, gen); hit {
			return v, nil
		}
	}
	v, size, err := compute()
	if err == nil && ok {
		s.past.remember(key, gen, v, size)
	}
	return v, err
}

// HistoryCache describes the history cache (zero when it is off).
func (s *Service) HistoryCache() HistoryCacheStats {
	if s.past == nil {
		return HistoryCacheStats{}
	}
	return s.past.stats()
}

// join pairs the rows of two series that share a key (the last row of
// each key wins), in key order.
func join(series [][]fx.Rate, key func(fx.Rate) int64) [][]fx.Rate {
	first := map[int64]fx.Rate{}
	for _, r := range series[0] {
		first[key(r)] = r
	}
	second := map[int64]fx.Rate{}
	for _, r := range series[1] {
		second[key(r)] = r
	}
	var keys []int64
	for k := range first {
		if _, ok := second[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([][]fx.Rate, len(keys))
	for i, k := range keys {
		out[i] = []fx.Rate{first[k], second[k]}
	}
	return out
}

// Resync copies provider's latest released rates and the held series
// from PostgreSQL into Redis (never replacing a newer cached rate; always
// one that disagrees with its row) and drops the in-process copy, so a
// quarantine decision, release or rejection, is priced at once on every
// replica (the held set's write announces it).
func (s *Service) Resync(ctx context.Context, provider string) error {
	rows, err := s.store.LatestServable(ctx, []string{provider}, nil, time.Time{})
	if err != nil {
		return err
	}
	if _, err := s.cache.SetLatest(ctx, provider, rows, ""); err != nil {
		return err
	}
	return s.SyncHeld(ctx)
}

// repairEvery bounds how often one replica rewrites a provider's cache
// after disagreements: under load every refused conversion asks for it.
const repairEvery = time.Second

// Repair rewrites provider's cached latest rates from PostgreSQL whatever
// Redis holds (cache.ReplaceLatest), after a conversion found the cache
// disagreeing with a row. Concurrent calls share one rewrite, and a
// replica rewrites a provider at most once per repairEvery.
func (s *Service) Repair(ctx context.Context, provider string) error {
	_, err, _ := s.repairs.Do(provider, func() (any, error) {
		if last, ok := s.repaired.Load(provider); ok && time.Since(last.(time.Time)) < repairEvery {
			return nil, nil
		}
		rows, err := s.store.LatestServable(ctx, []string{provider}, nil, time.Time{})
		if err != nil {
			return nil, err
		}
		if _, err := s.cache.ReplaceLatest(ctx, provider, rows); err != nil {
			return nil, err
		}
		s.repaired.Store(provider, time.Now())
		s.near.invalidate()
		return nil, nil
	})
	return err
}

// SyncHeld copies the series the quality gate holds from PostgreSQL into
// Redis and drops the in-process copy.
func (s *Service) SyncHeld(ctx context.Context) error {
	readAt := time.Now()
	held, err := s.standing.HeldSeries(ctx)
	if err != nil {
		return err
	}
	if err := s.cache.SetHeld(ctx, held, readAt); err != nil {
		return err
	}
	s.near.invalidate()
	return nil
}

// SyncSuspensions copies the suspended pairs from PostgreSQL into Redis
// and drops the in-process copy.
func (s *Service) SyncSuspensions(ctx context.Context) error {
	readAt := time.Now()
	list, err := s.standing.Suspensions(ctx)
	if err != nil {
		return err
	}
	pairs := make([]string, len(list))
	for i, p := range list {
		pairs[i] = store.SuspendedKey(p.Base, p.Quote)
	}
	if err := s.cache.SetSuspensions(ctx, pairs, readAt); err != nil {
		return err
	}
	s.near.invalidate()
	return nil
}
