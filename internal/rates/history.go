package rates

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"

	"ces/internal/fx"
	"ces/internal/store"
)

// pastStore is what the history cache reads from PostgreSQL.
type pastStore interface {
	StateAt(ctx context.Context, provider string, at time.Time) ([]fx.Rate, error)
	Publications(ctx context.Context, provider string, from time.Time) ([]time.Time, error)
}

// ChangeListener tells the history cache of changes to stored history
// (*store.Rates).
type ChangeListener interface {
	ListenRateChanges(ctx context.Context, ready func() error, change func(store.RateChange) error) error
}

// past answers historical questions from memory. Stored rates never
// change, so what a provider's rates price at an instant is a function of
// the publications up to it; past keeps the instants of every publication
// (a few bytes each) and, on demand and bounded in bytes, the state of a
// provider at a publication: for every series, the row in force then.
// The rates in force at any instant are the state at the last
// publication on or before it.
//
// Quarantines and releases change what a past instant prices, and
// backfills add publications before cached ones: PostgreSQL announces
// each such change in its own transaction (migration 11), and past drops
// the states at and after it. Until it listens, and whenever the
// listening connection is lost, past is not ready and answers go to
// PostgreSQL.
type past struct {
	store     pastStore
	changes   ChangeListener
	providers []string
	states    *otter.Cache[stateKey, *state]
	counter   *stats.Counter

	mu       sync.RWMutex
	instants map[string][]int64 // Unix nanoseconds, ascending
	ready    atomic.Bool
	// answers memoizes whole answers (a route at an instant, what callers keep through Service.Memoize)
	// computed from memory, each with the generation it was computed in;
	// every change to stored history starts a new generation.
	answers *otter.Cache[string, memo]
	gen     atomic.Uint64
	epoch   atomic.Uint64
}

type memo struct {
	gen  uint64
	val  any
	size uint32
}

// stateKey names a provider's state at a publication, in an epoch: each
// reload starts a new one, so a load that began before it (InvalidateAll
// does not cancel loads) is stored where no reader looks.
type stateKey struct {
	provider string
	at       int64
	epoch    uint64
}

// state is one provider's rows in force at one publication, indexed as
// the source policy reads them.
type state struct {
	rows  []fx.Rate
	pairs map[[2]string]int32 // (base, quote) → index in rows
	edges map[string][]int32  // currency → rows touching it
	size  uint32
}

// rowBytes bounds what one cached row costs in memory: the fx.Rate with
// its decimal's big.Int, its map entry and its two edge entries.
// TestStateSizeEstimate measures it.
const rowBytes = 400

func newState(rows []fx.Rate) *state {
	s := &state{rows: slices.Clip(rows), pairs: make(map[[2]string]int32, len(rows)), edges: map[string][]int32{}}
	for i, r := range rows {
		s.pairs[[2]string{r.Base, r.Quote}] = int32(i)
		s.edges[r.Base] = append(s.edges[r.Base], int32(i))
		s.edges[r.Quote] = append(s.edges[r.Quote], int32(i))
	}
	s.size = uint32(256 + rowBytes*len(rows))
	return s
}

// pair returns the row of series base/quote.
func (s *state) pair(base, quote string) (fx.Rate, bool) {
	if i, ok := s.pairs[[2]string{base, quote}]; ok {
		return s.rows[i], true
	}
	return fx.Rate{}, false
}

// DefaultHistoryCacheBytes is the default bound of the history cache.
const DefaultHistoryCacheBytes = 64 << 20

// newPast bounds the states to three quarters of maxBytes and the
// memoized answers to the rest.
func newPast(st pastStore, changes ChangeListener, providers []string, maxBytes int64) *past {
	counter := stats.NewCounter()
	return &past{
		store: st, changes: changes, providers: providers, counter: counter, instants: map[string][]int64{},
		states: otter.Must(&otter.Options[stateKey, *state]{
			MaximumWeight: uint64(maxBytes - maxBytes/4),
			Weigher:       func(_ stateKey, s *state) uint32 { return s.size },
			StatsRecorder: counter,
		}),
		answers: otter.Must(&otter.Options[string, memo]{
			MaximumWeight: uint64(maxBytes / 4),
			Weigher:       func(_ string, m memo) uint32 { return m.size },
		}),
	}
}

// atKey names the answer to from→to at at: the pair and each provider's
// last publication on or before at, which is all the answer depends on.
// ok is false when answers cannot come from memory (p nil or not ready).
func (p *past) atKey(provs []string, from, to string, at time.Time, only string) (key string, gen uint64, ok bool) {
	var buf [96]byte
	b, gen, ok := p.appendAtKey(buf[:0], provs, from, to, at, only)
	return string(b), gen, ok
}

// appendAtKey appends atKey's key to b, so that a caller can extend it
// before making it a string (one allocation).
func (p *past) appendAtKey(b []byte, provs []string, from, to string, at time.Time, only string) ([]byte, uint64, bool) {
	if p == nil || !p.ready.Load() {
		return b, 0, false
	}
	gen := p.gen.Load()
	b = append(b, "at "...)
	b = append(b, from...)
	b = append(b, ' ')
	b = append(b, to...)
	b = append(b, ' ')
	b = append(b, only...)
	for _, prov := range provs {
		t, _ := p.floor(prov, at)
		b = append(b, ' ')
		b = strconv.AppendInt(b, t, 36)
	}
	return b, gen, true
}

// memoKey returns key with the current generation; ok is false when
// answers cannot come from memory (p nil or not ready).
func (p *past) memoKey(key string) (string, uint64, bool) {
	if p == nil || !p.ready.Load() {
		return "", 0, false
	}
	return key, p.gen.Load(), true
}

// recall returns the answer memoized under key in generation gen.
func (p *past) recall(key string, gen uint64) (any, bool) {
	m, ok := p.answers.GetIfPresent(key)
	if !ok || m.gen != gen {
		return nil, false
	}
	return m.val, true
}

// remember memoizes an answer computed in generation gen, unless a change
// came meanwhile or the cache stopped serving.
func (p *past) remember(key string, gen uint64, val any, size uint32) {
	if p.gen.Load() != gen || !p.ready.Load() {
		return
	}
	p.answers.Set(key, memo{gen: gen, val: val, size: size})
}

// HistoryCacheStats describe the history cache for metrics.
type HistoryCacheStats struct {
	Bytes        uint64
	States       int
	Hits, Misses uint64
	Publications int
	Ready        bool
	LoadFailures uint64
	Evictions    uint64
	EvictedBytes uint64
	MaxBytes     uint64
}

func (p *past) stats() HistoryCacheStats {
	s := p.counter.Snapshot()
	p.mu.RLock()
	n := 0
	for _, list := range p.instants {
		n += len(list)
	}
	p.mu.RUnlock()
	return HistoryCacheStats{
		Bytes: p.states.WeightedSize() + p.answers.WeightedSize(), States: p.states.EstimatedSize(), Hits: s.Hits, Misses: s.Misses,
		Publications: n, Ready: p.ready.Load(), Evictions: s.Evictions, MaxBytes: p.states.GetMaximum() + p.answers.GetMaximum(),
	}
}

// run keeps past in step with PostgreSQL until ctx ends: it listens for
// changes and, each time it starts listening, forgets every state and
// reloads the instants. A lost connection is retried with backoff.
func (p *past) run(ctx context.Context, onErr func(error)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := p.changes.ListenRateChanges(ctx, func() error {
			if err := p.reload(ctx); err != nil {
				return err
			}
			p.ready.Store(true)
			return nil
		}, p.apply)
		p.ready.Store(false)
		if ctx.Err() != nil {
			return
		}
		onErr(err)
		if time.Since(started) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// reload reads every provider's publication instants afresh and drops
// every state; the caller is already listening, so no change is lost.
func (p *past) reload(ctx context.Context) error {
	p.ready.Store(false)
	fresh := make(map[string][]int64, len(p.providers))
	for _, prov := range p.providers {
		list, err := p.store.Publications(ctx, prov, time.Time{})
		if err != nil {
			return err
		}
		fresh[prov] = nanos(list)
	}
	// A generation begins before and after the change, so that no answer
	// computed while it was being applied is memoized.
	p.gen.Add(1)
	p.epoch.Add(1)
	p.mu.Lock()
	p.instants = fresh
	p.mu.Unlock()
	p.states.InvalidateAll()
	p.answers.InvalidateAll()
	p.gen.Add(1)
	return nil
}

func nanos(list []time.Time) []int64 {
	out := make([]int64, len(list))
	for i, t := range list {
		out[i] = t.UnixNano()
	}
	return out
}

// changeSlack widens a change's instant backwards, so that a rounding of
// its announcement can never leave the changed publication's state cached.
const changeSlack = time.Millisecond

// apply takes one announced change: the provider's publications from its
// instant on are read again, and every state at or after it is dropped.
// otter discards a state whose load the invalidation overlaps, so a load
// that read PostgreSQL before the change committed is never kept.
func (p *past) apply(c store.RateChange) error {
	if !slices.Contains(p.providers, c.Provider) {
		return nil
	}
	from := c.From.Add(-changeSlack)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := p.store.Publications(ctx, c.Provider, from)
	if err != nil {
		// Not knowing the new instants would answer from an incomplete
		// index: the listener stops, and restarts with a full reload.
		p.ready.Store(false)
		return err
	}
	cut := from.UnixNano()
	p.gen.Add(1) // a generation begins before the change
	p.mu.Lock()
	old := p.instants[c.Provider]
	i := sort.Search(len(old), func(i int) bool { return old[i] >= cut })
	merged := append(slices.Clip(old[:i]), nanos(list)...)
	p.instants[c.Provider] = merged
	p.mu.Unlock()
	// Every instant a reader could have used, the old ones and the new.
	epoch := p.epoch.Load()
	for _, at := range old[i:] {
		p.states.Invalidate(stateKey{c.Provider, at, epoch})
	}
	for _, at := range merged[i:] {
		p.states.Invalidate(stateKey{c.Provider, at, epoch})
	}
	p.gen.Add(1) // and after it, as reload does
	return nil
}

// floor returns the provider's last publication on or before at.
func (p *past) floor(provider string, at time.Time) (int64, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	list := p.instants[provider]
	n := at.UnixNano()
	i := sort.Search(len(list), func(i int) bool { return list[i] > n })
	if i == 0 {
		return 0, false
	}
	return list[i-1], true
}

// between returns the provider's publications with start ≤ t < end, both
// bounds at PostgreSQL's precision (pgx sends times truncated to the
// microsecond), so that memory and PostgreSQL answer a range alike.
func (p *past) between(provider string, start, end time.Time) []int64 {
	lo, hi := start.Truncate(time.Microsecond).UnixNano(), end.Truncate(time.Microsecond).UnixNano()
	p.mu.RLock()
	defer p.mu.RUnlock()
	list := p.instants[provider]
	i := sort.Search(len(list), func(i int) bool { return list[i] >= lo })
	j := sort.Search(len(list), func(i int) bool { return list[i] >= hi })
	return slices.Clone(list[i:j])
}

// errNotReady sends a question to PostgreSQL.
var errNotReady = errors.New("rates: history cache not ready")

// state returns the provider's state at one of its publications.
func (p *past) state(ctx context.Context, provider string, at int64) (*state, error) {
	return p.states.Get(ctx, stateKey{provider, at, p.epoch.Load()}, otter.LoaderFunc[stateKey, *state](func(ctx context.Context, k stateKey) (*state, error) {
		rows, err := p.store.StateAt(ctx, k.provider, time.Unix(0, k.at))
		if err != nil {
			return nil, err
		}
		return newState(rows), nil
	}))
}

// rows returns the rows in force at at, of provs, that can take part in
// pricing from→to: every row touching from or to.
func (p *past) rows(ctx context.Context, provs []string, from, to string, at time.Time) ([]fx.Rate, error) {
	if !p.ready.Load() {
		return nil, errNotReady
	}
	states := make([]*state, 0, len(provs))
	for _, prov := range provs {
		t, ok := p.floor(prov, at)
		if !ok {
			continue
		}
		s, err := p.state(ctx, prov, t)
		if err != nil {
			return nil, err
		}
		states = append(states, s)
	}
	var rows []fx.Rate
	for _, s := range states {
		for _, i := range s.edges[from] {
			rows = append(rows, s.rows[i])
		}
		for _, i := range s.edges[to] {
			if r := s.rows[i]; r.Base != from && r.Quote != from { // already taken with from
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

// series returns the released rows of one series published in
// [start, end), oldest first, from the provider's states at its
// publications in the range; false when there are more than limit of them
// (the caller reads PostgreSQL rather than fill the cache with one answer).
func (p *past) series(ctx context.Context, provider, base, quote string, start, end time.Time, limit int) ([]fx.Rate, bool, error) {
	if !p.ready.Load() {
		return nil, false, nil
	}
	list := p.between(provider, start, end)
	if len(list) > limit {
		return nil, false, nil
	}
	var out []fx.Rate
	for _, at := range list {
		s, err := p.state(ctx, provider, at)
		if err != nil {
			return nil, false, err
		}
		// The row in force at a publication was published then unless the
		// series skipped it, or the gate held its row there.
		if r, ok := s.pair(base, quote); ok && r.AsOf.UnixNano() == at {
			out = append(out, r)
		}
	}
	return out, true, nil
}
