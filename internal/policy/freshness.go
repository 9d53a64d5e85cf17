package policy

import (
	"slices"
	"sort"
	"time"

	"ces/internal/fx"
)

// Series names one stored rate series: a provider's base/quote.
type Series struct{ Provider, Base, Quote string }

// SeriesOf returns the series r belongs to.
func SeriesOf(r fx.Rate) Series { return Series{r.Provider, r.Base, r.Quote} }

// Standing is what decides, beyond priority, whether a stored rate may
// price: its age at the instant asked, and whether the quality gate holds
// a newer publication of its series.
type Standing struct {
	// At is the instant freshness is judged at: now for a latest lookup,
	// the instant asked for at=.
	At time.Time
	// StaleAfter is how old each provider's rates may grow before they
	// are stale.
	StaleAfter func(provider string) time.Duration
	// Held maps each series whose newest publication the quality gate
	// holds to that publication's as_of. A released rate of such a series
	// published before it is under review: it is what an operator is
	// being asked to replace.
	Held map[Series]time.Time
	// Silent maps each provider the newest health check found silent to
	// that check's instant: judged at or after it, every rate of the
	// provider is stale, whatever its age (see HealthRule).
	Silent map[string]time.Time
}

// Fresh reports whether r is no older than its provider's bound at s.At,
// and its provider was not found silent by then.
func (s Standing) Fresh(r fx.Rate) bool {
	if since, ok := s.Silent[r.Provider]; ok && !s.At.Before(since) {
		return false
	}
	return s.StaleAfter == nil || s.At.Sub(r.AsOf) <= s.StaleAfter(r.Provider)
}

// UnderReview reports whether a newer publication of r's series is held.
func (s Standing) UnderReview(r fx.Rate) bool {
	held, ok := s.Held[SeriesOf(r)]
	return ok && held.After(r.AsOf)
}

// Priced is a quote with how its legs stand.
type Priced struct {
	fx.Quote
	// Stale: a leg is older than its provider's bound at the instant asked.
	Stale bool
	// UnderReview: a leg's series has a newer publication held by the
	// quality gate. Such a quote is shown, never converted.
	UnderReview bool
}

// Books holds one set of rates four ways, for the freshness rule (see
// Price). Build it with NewBooks; it is read-only afterwards.
type Books struct {
	standing Standing
	// current leaves out rates under review; fresh leaves out stale ones
	// too. all and allFresh keep the rates under review, for lookups that
	// nothing else can price.
	current, fresh, all, allFresh *Book
}

// NewBooks indexes rates under s; a, when set, is the default source
// policy of their books (see NewAuthorityBook).
func NewBooks(rates []fx.Rate, s Standing, a *Authority) *Books {
	var current, fresh, allFresh []fx.Rate
	for _, r := range rates {
		review, ok := s.UnderReview(r), s.Fresh(r)
		if ok {
			allFresh = append(allFresh, r)
		}
		if !review {
			current = append(current, r)
			if ok {
				fresh = append(fresh, r)
			}
		}
	}
	b := &Books{standing: s, current: NewAuthorityBook(current, a), fresh: NewAuthorityBook(fresh, a)}
	b.all, b.allFresh = b.current, b.fresh
	if len(current) < len(rates) {
		b.all, b.allFresh = NewAuthorityBook(rates, a), NewAuthorityBook(allFresh, a)
	}
	return b
}

// All is the book of every rate, under review or not.
func (b *Books) All() *Book { return b.all }

// Current is the book of the rates not under review.
func (b *Books) Current() *Book { return b.current }

// Price applies the source policy with freshness and review:
//
//  1. among the rates that are fresh and not under review, priority
//     decides (Route);
//  2. when those cannot price the pair, among the rates not under review
//     the newest publication prices: each provider alone, newest
//     publication first, then across providers in that order; the answer
//     is stale;
//  3. when neither can, the same two steps over every rate, under review
//     included: the answer says so, and a conversion refuses it.
//
// A stale source therefore never prices a pair that a fresh one can, and
// a series whose newest publication is held prices nothing while another
// source can. With only set, only that provider's rates take part.
func (b *Books) Price(from, to string, priority []string, only string) (Priced, error) {
	p, err := b.price(b.fresh, b.current, from, to, priority, only)
	if err == nil || b.all == b.current {
		return p, err
	}
	if p, err2 := b.price(b.allFresh, b.all, from, to, priority, only); err2 == nil {
		return p, nil
	}
	return Priced{}, err
}

func (b *Books) price(fresh, any *Book, from, to string, priority []string, only string) (Priced, error) {
	q, err := fresh.Route(from, to, priority, only)
	if err != nil {
		q, err = any.routeNewest(from, to, priority, only)
	}
	if err != nil {
		return Priced{}, err
	}
	p := Priced{Quote: q}
	for _, l := range q.Legs {
		p.Stale = p.Stale || !b.standing.Fresh(l)
		p.UnderReview = p.UnderReview || b.standing.UnderReview(l)
	}
	return p, nil
}

// routeNewest prices from→to from stale rows: of the routes each provider
// prices alone (in priority order) and the one across providers (in order
// of their newest publication), the route whose oldest leg is newest wins,
// the earlier one on a tie. Among stale sources, a direct rate from 2017
// must not outrank a cross through rates from last month.
func (b *Book) routeNewest(from, to string, priority []string, only string) (fx.Quote, error) {
	if only != "" {
		return b.Route(from, to, nil, only)
	}
	var best fx.Quote
	found := false
	consider := func(q fx.Quote) {
		if !found || q.AsOf.After(best.AsOf) {
			best, found = q, true
		}
	}
	for _, p := range b.order(priority) {
		if q, err := b.Route(from, to, nil, p); err == nil {
			consider(q)
		}
	}
	q, err := b.Route(from, to, b.newest, "")
	if err != nil {
		return fx.Quote{}, err
	}
	if q.Rule == RuleCrossProvider {
		consider(q)
	}
	return best, nil
}

// Newest returns the book's providers by their newest rate, newest first;
// providers with the same newest as_of are sorted by name.
func (b *Book) Newest() []string { return slices.Clone(b.newest) }

func newestFirst(pairsByProvider map[string]map[[2]string]fx.Rate) []string {
	newest := make(map[string]time.Time, len(pairsByProvider))
	out := make([]string, 0, len(pairsByProvider))
	for p, pairs := range pairsByProvider {
		for _, r := range pairs {
			if r.AsOf.After(newest[p]) {
				newest[p] = r.AsOf
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if !newest[out[i]].Equal(newest[out[j]]) {
			return newest[out[i]].After(newest[out[j]])
		}
		return out[i] < out[j]
	})
	return out
}
