package store

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Publication is one publication of a provider as stored: its instant,
// how many rows it holds, and how many of them the gate holds, released
// after a hold, or rejected.
type Publication struct {
	AsOf     time.Time
	Rows     int
	Held     int
	Released int
	Rejected int
}

// PublicationStates returns the publications provider made with as_of in
// [from, to), oldest first, for the console's publisher page.
func (s *Rates) PublicationStates(ctx context.Context, provider string, from, to time.Time) ([]Publication, error) {
	var out []struct {
		AsOf     time.Time `bun:"as_of"`
		Rows     int       `bun:"rows"`
		Held     int       `bun:"held"`
		Released int       `bun:"released"`
		Rejected int       `bun:"rejected"`
	}
	err := s.db.NewRaw(`
SELECT r.as_of,
       count(*) AS rows,
       count(q.id) FILTER (WHERE d.id IS NULL) AS held,
       count(q.id) FILTER (WHERE d.decision = 'released') AS released,
       count(q.id) FILTER (WHERE d.decision = 'rejected') AS rejected
FROM exchange_rates r
LEFT JOIN rate_quarantines q ON q.rate_id = r.id
LEFT JOIN rate_quarantine_decisions d ON d.quarantine_id = q.id
WHERE r.provider = ? AND r.as_of >= ? AND r.as_of < ?
GROUP BY r.as_of
ORDER BY r.as_of`, provider, from.UTC(), to.UTC()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: publications of %s: %w", provider, err)
	}
	pubs := make([]Publication, len(out))
	for i, o := range out {
		pubs[i] = Publication{AsOf: o.AsOf.UTC(), Rows: o.Rows, Held: o.Held, Released: o.Released, Rejected: o.Rejected}
	}
	return pubs, nil
}

// SeriesPoint is one stored rate of a series with what the gate made of
// it: "released" (never held, or released by an operator), "held" or
// "rejected".
type SeriesPoint struct {
	ID    int64
	AsOf  time.Time
	Value decimal.Decimal
	State string
}

// Series returns provider's rates of base→quote with as_of in [from, to),
// oldest first, each with its quality state.
func (s *Rates) Series(ctx context.Context, provider, base, quote string, from, to time.Time) ([]SeriesPoint, error) {
	var out []struct {
		ID    int64     `bun:"id"`
		AsOf  time.Time `bun:"as_of"`
		Rate  string    `bun:"rate"`
		State string    `bun:"state"`
	}
	err := s.db.NewRaw(`
SELECT r.id, r.as_of, r.rate::text AS rate,
       CASE WHEN q.id IS NULL THEN 'released'
            WHEN d.id IS NULL THEN 'held'
            ELSE d.decision END AS state
FROM exchange_rates r
LEFT JOIN rate_quarantines q ON q.rate_id = r.id
LEFT JOIN rate_quarantine_decisions d ON d.quarantine_id = q.id
WHERE r.provider = ? AND r.base = ? AND r.quote = ? AND r.as_of >= ? AND r.as_of < ?
ORDER BY r.as_of, r.id`, provider, base, quote, from.UTC(), to.UTC()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: series %s %s/%s: %w", provider, base, quote, err)
	}
	pts := make([]SeriesPoint, len(out))
	for i, o := range out {
		v, err := decimal.NewFromString(o.Rate)
		if err != nil {
			return nil, fmt.Errorf("store: series %s %s/%s: row %d: %w", provider, base, quote, o.ID, err)
		}
		pts[i] = SeriesPoint{ID: o.ID, AsOf: o.AsOf.UTC(), Value: v, State: o.State}
	}
	return pts, nil
}

// Pair is a pair a provider quotes, with how many rows it has of it.
type Pair struct {
	Base, Quote string
	Rows        int
}

// Pairs lists the pairs provider has rows of with as_of in [from, to),
// the most published first, for the publisher page's choice of chart.
func (s *Rates) Pairs(ctx context.Context, provider string, from, to time.Time) ([]Pair, error) {
	var out []Pair
	err := s.db.NewRaw(`
SELECT base, quote, count(*) AS rows FROM exchange_rates
WHERE provider = ? AND as_of >= ? AND as_of < ?
GROUP BY base, quote ORDER BY rows DESC, base, quote`, provider, from.UTC(), to.UTC()).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: pairs of %s: %w", provider, err)
	}
	return out, nil
}
