package rates

import (
	"context"
	"slices"
	"strings"
	"time"

	"ces/internal/catalog"
	"ces/internal/policy"
)

// Publisher is a catalogue publisher as this service sees it: whether it
// is configured, what PostgreSQL holds of it, and how fresh its newest
// released rate is.
type Publisher struct {
	catalog.Publisher
	Configured bool
	// Newest is the as_of of its newest released rate (zero: none), and
	// Stale says it is older than the publisher's staleness bound.
	Newest time.Time
	Stale  bool
	// Health is the newest health check of the publisher; nil when none
	// was recorded. A silent publisher is Stale.
	Health *PublisherHealth
	// Currencies are the currencies it quotes (its pivot aside), each
	// with the first and last as_of stored, held rows included.
	Currencies []Coverage
}

// PublisherHealth is one recorded health check (policy.HealthRule).
type PublisherHealth struct {
	Status policy.HealthStatus
	// Expected and Missed count the publications due in the check's
	// window and those CES did not have; Newest is the as_of of the
	// newest publication at CheckedAt (zero: none).
	Expected, Missed  int
	Newest, CheckedAt time.Time
}

// Coverage is the stored span of one currency of a publisher.
type Coverage struct {
	Code        string
	First, Last time.Time
}

// Publishers returns every catalogue publisher, by key: the configured
// ones with what is stored of them. The spans are read from PostgreSQL
// once per change of stored history (see Memoize); freshness is judged
// at each call.
func (s *Service) Publishers(ctx context.Context) ([]Publisher, error) {
	covered, err := s.coverage(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	newest := map[string]time.Time{}
	for _, r := range snap.books.All().Rates() {
		if r.AsOf.After(newest[r.Provider]) {
			newest[r.Provider] = r.AsOf
		}
	}
	checks, _ := s.health(ctx)
	now := s.now()
	var out []Publisher
	for _, p := range catalog.All() {
		pub := Publisher{Publisher: p, Configured: slices.Contains(s.providers, p.Key), Currencies: covered.byProvider[p.Key]}
		if n, ok := newest[p.Key]; ok {
			pub.Newest = n
			pub.Stale = now.Sub(n) > s.staleAfter(p.Key)
		}
		if c, ok := checks[p.Key]; ok {
			pub.Health = &PublisherHealth{Status: c.Status, Expected: c.Expected, Missed: c.Missed, Newest: c.NewestAsOf, CheckedAt: c.CheckedAt}
			pub.Stale = pub.Stale || (!pub.Newest.IsZero() && c.Status == policy.Silent && !now.Before(c.CheckedAt))
		}
		out = append(out, pub)
	}
	return out, nil
}

// stored is what PostgreSQL holds of the configured providers: per
// provider, each currency it quotes (its pivot aside) with the first and
// last as_of stored; and per currency, the first as_of any of them stored
// of it.
type stored struct {
	byProvider map[string][]Coverage
	since      map[string]time.Time
}

// coverage reads what PostgreSQL holds of the configured providers, once
// per change of stored history (see stored).
func (s *Service) coverage(ctx context.Context) (stored, error) {
	v, err := s.Memoize("publishers coverage", func() (any, uint32, error) {
		spans, err := s.store.Coverage(ctx, s.providers)
		if err != nil {
			return nil, 0, unavailable(err)
		}
		out := stored{byProvider: map[string][]Coverage{}, since: map[string]time.Time{}}
		for _, sp := range spans {
			pivot := sp.Quote
			if p, ok := catalog.Lookup(sp.Provider); ok {
				pivot = p.Pivot
			}
			for _, code := range []string{sp.Base, sp.Quote} {
				if first, ok := out.since[code]; !ok || sp.First.Before(first) {
					out.since[code] = sp.First
				}
				if code == pivot {
					continue
				}
				list := out.byProvider[sp.Provider]
				i := slices.IndexFunc(list, func(c Coverage) bool { return c.Code == code })
				if i < 0 {
					out.byProvider[sp.Provider] = append(list, Coverage{Code: code, First: sp.First, Last: sp.Last})
					continue
				}
				if sp.First.Before(list[i].First) {
					list[i].First = sp.First
				}
				if sp.Last.After(list[i].Last) {
					list[i].Last = sp.Last
				}
			}
		}
		for _, list := range out.byProvider {
			slices.SortFunc(list, func(a, b Coverage) int { return strings.Compare(a.Code, b.Code) })
		}
		return out, uint32(64 * (len(spans) + len(out.since) + 1)), nil
	})
	if err != nil {
		return stored{}, err
	}
	return v.(stored), nil
}
