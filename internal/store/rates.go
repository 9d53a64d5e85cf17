package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"ces/internal/fx"
	"ces/internal/policy"
)

// rateRow is one row of exchange_rates.
type rateRow struct {
	bun.BaseModel `bun:"table:exchange_rates,alias:r"`

	ID       int64  `bun:"id,pk,autoincrement"`
	Provider string `bun:"provider,notnull"`
	Base     string `bun:"base,notnull"`
	Quote    string `bun:"quote,notnull"`
	// Rate travels as text so NUMERIC keeps the provider's exact digits,
	// trailing zeros included (decimal's driver value would trim them).
	Rate          string    `bun:"rate,type:numeric,notnull"`
	AsOf          time.Time `bun:"as_of,notnull"`
	FetchedAt     time.Time `bun:"fetched_at,notnull"`
	WorkflowID    string    `bun:"workflow_id,notnull"`
	RunID         string    `bun:"run_id,notnull"`
	PayloadSHA256 string    `bun:"payload_sha256,notnull"`
}

func (r rateRow) rate() fx.Rate {
	return fx.Rate{
		ID: r.ID, Provider: r.Provider, Base: r.Base, Quote: r.Quote, Value: decimal.RequireFromString(r.Rate),
		AsOf: r.AsOf.UTC(), FetchedAt: r.FetchedAt.UTC(),
	}
}

// Origin says which ingestion wrote a set of rows.
type Origin struct {
	WorkflowID string
	RunID      string
	FetchedAt  time.Time
	// Judge, when set, is the quality gate: every row the call inserts is
	// put to it, with its evidence, inside the insert's transaction.
	Judge Judge
}

// Evidence is what the quality gate weighs a newly inserted rate against,
// as PostgreSQL holds it at the insert: the same series' newest released
// rate before it (nil for a first publication), other providers'
// released rates of the pair in force at its as_of, either way round,
// and every provider's rows of its UTC date (its own publisher's, the
// ones just inserted included, and the others' released ones).
type Evidence struct {
	Rate     fx.Rate
	Previous *fx.Rate
	Others   []fx.Rate
	SameDay  []fx.Rate
}

// Verdict is the quality gate's decision on one newly inserted rate:
// Held with the Finding that holds it, and the other publishers' rows of
// its day it holds after the fact (an issuer's publication that the
// compilers' stored rows lag behind).
type Verdict struct {
	Held    bool
	Finding policy.Finding
	Lagging []policy.Lag
}

// Judge is the quality gate's verdict on one newly inserted rate. The
// decision is the caller's (policy.Check and policy.CheckConsensus,
// through the gate package); the store only gathers the evidence and
// records the holds in the same transaction.
type Judge func(Evidence) Verdict

// InsertResult reports what InsertRates did.
type InsertResult struct {
	// Inserted counts the rows this call added; AlreadyPresent those that
	// an earlier ingestion had stored with the same natural key.
	Inserted       int
	AlreadyPresent int
	// Conflicts lists quotes whose stored value differs from the one just
	// fetched for the same as_of: the provider revised a published rate.
	// History keeps the first value; the revision is reported, not applied.
	// Each entry is BASE/QUOTE when the sets had several bases.
	Conflicts []string
	// Stored are the rows now in the table for these sets, with their ids,
	// whoever inserted them.
	Stored []fx.Rate
	// Quarantined are the rows of these sets the quality gate holds: those
	// this call inserted, and, on a retry, those an earlier attempt did.
	Quarantined []Quarantine
	// Lagging are other publishers' rows, stored and priced before, that
	// this call's rows held (an issuer's publication disagreeing with
	// them): their providers' cached rates must be replaced.
	Lagging []Quarantine
}

// InsertRates stores one set; see InsertSets.
func (s *Rates) InsertRates(ctx context.Context, set fx.RateSet, origin Origin) (InsertResult, error) {
	return s.InsertSets(ctx, []fx.RateSet{set}, origin)
}

// InsertSets stores sets in one transaction with ON CONFLICT DO NOTHING,
// so repeating it inserts nothing twice, and returns the stored rows.
// With origin.Judge every newly inserted row goes through the quality
// gate with its Evidence; a row the gate holds is recorded in
// rate_quarantines in the same transaction, so it is never priced, not
// even for an instant.
// Sets are inserted in the order given: pass a backfill oldest first so
// each day is compared with the one before it.
func (s *Rates) InsertSets(ctx context.Context, sets []fx.RateSet, origin Origin) (InsertResult, error) {
	var res InsertResult
	several := slices.ContainsFunc(sets, func(s fx.RateSet) bool { return s.Base != sets[0].Base })
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		fresh := make([][]fx.Rate, len(sets))
		for i, set := range sets {
			var err error
			if fresh[i], err = insertSet(ctx, tx, set, origin, several, &res); err != nil {
				return fmt.Errorf("%s/%s at %s: %w", set.Provider, set.Base, set.AsOf.Format(time.RFC3339), err)
			}
		}
		if origin.Judge == nil {
			return nil
		}
		// Every set is stored before any is judged, so the gate sees the
		// whole publication: a publisher's EUR/KES set is put on USD with
		// its USD/KES set of the same call, whichever came first.
		for i, set := range sets {
			held, lagging, err := gate(ctx, tx, fresh[i], origin.Judge)
			if err != nil {
				return fmt.Errorf("%s/%s at %s: %w", set.Provider, set.Base, set.AsOf.Format(time.RFC3339), err)
			}
			res.Quarantined = append(res.Quarantined, held...)
			res.Lagging = append(res.Lagging, lagging...)
		}
		return nil
	})
	if err != nil {
		return InsertResult{}, fmt.Errorf("store: insert rates: %w", err)
	}
	return res, nil
}

// insertSet stores one set and returns the rows it inserted, for the gate.
func insertSet(ctx context.Context, tx bun.Tx, set fx.RateSet, origin Origin, several bool, res *InsertResult) ([]fx.Rate, error) {
	if len(set.Rates) == 0 {
		return nil, nil
	}
	rows := make([]rateRow, len(set.Rates))
	quotes := make([]string, len(set.Rates))
	want := make(map[string]decimal.Decimal, len(set.Rates))
	for i, q := range set.Rates {
		rows[i] = rateRow{
			Provider: set.Provider, Base: set.Base, Quote: q.Quote, Rate: fx.Exact(q.Value),
			AsOf: set.AsOf.UTC(), FetchedAt: origin.FetchedAt.UTC(),
			WorkflowID: origin.WorkflowID, RunID: origin.RunID, PayloadSHA256: set.PayloadHash,
		}
		quotes[i] = q.Quote
		want[q.Quote] = q.Value
	}
	var inserted []int64
	if err := tx.NewInsert().Model(&rows).Ignore().Returning("id").Scan(ctx, &inserted); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("insert: %w", err)
	}
	res.Inserted += len(inserted)
	res.AlreadyPresent += len(set.Rates) - len(inserted)
	isNew := make(map[int64]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	var stored []rateRow
	if err := tx.NewSelect().Model(&stored).
		Where("provider = ? AND base = ? AND as_of = ?", set.Provider, set.Base, set.AsOf.UTC()).
		Where("quote IN (?)", bun.In(quotes)).
		Order("quote").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	var fresh []fx.Rate
	for _, row := range stored {
		if !decimal.RequireFromString(row.Rate).Equal(want[row.Quote]) {
			c := row.Quote
			if several {
				c = row.Base + "/" + row.Quote
			}
			res.Conflicts = append(res.Conflicts, c)
		}
		r := row.rate()
		res.Stored = append(res.Stored, r)
		if isNew[r.ID] {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) < len(stored) {
		// A retry after a committed attempt inserts nothing; report the
		// rows that attempt's gate held and nobody has decided on yet.
		var old []int64
		for _, r := range stored {
			if !isNew[r.ID] {
				old = append(old, r.ID)
			}
		}
		var ids []int64
		if err := tx.NewSelect().Model((*quarantineRow)(nil)).Column("rq.id").Where("rq.rate_id IN (?)", bun.In(old)).
			Where("NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id)").
			Scan(ctx, &ids); err != nil {
			return nil, fmt.Errorf("held rows: %w", err)
		}
		for _, id := range ids {
			q, err := loadQuarantine(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			res.Quarantined = append(res.Quarantined, q)
		}
	}
	return fresh, nil
}

// servable is the condition on exchange_rates rows (alias r) that may be
// priced: not held by a quarantine without a release.
const servable = `NOT EXISTS (SELECT 1 FROM rate_quarantines rq WHERE rq.rate_id = r.id
  AND NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions rd WHERE rd.quarantine_id = rq.id AND rd.decision = 'released'))`

// gate puts the rows of one set that this call inserted (one provider,
// base and as_of) to judge, reading their evidence with three statements
// whatever their number: the previous released rate of each, other
// providers' rates of the same pairs in force then (each one index probe
// per series), and every row of the set's UTC date that may be weighed.
// It records each hold, and each lagging row of another publisher the
// verdicts name that nothing holds yet.
func gate(ctx context.Context, tx bun.Tx, fresh []fx.Rate, judge Judge) (held, lagging []Quarantine, err error) {
	if len(fresh) == 0 {
		return nil, nil, nil
	}
	first := fresh[0]
	quotes := make([]string, len(fresh))
	for i, r := range fresh {
		quotes[i] = r.Quote
	}
	var prev []rateRow
	if err := tx.NewRaw(`SELECT x.* FROM unnest(?::char(3)[]) AS q(quote)
CROSS JOIN LATERAL (SELECT r.* FROM exchange_rates AS r
  WHERE r.provider = ? AND r.base = ? AND r.quote = q.quote AND r.as_of < ? AND `+servable+`
  ORDER BY r.as_of DESC LIMIT 1) AS x`,
		pgdialect.Array(quotes), first.Provider, first.Base, first.AsOf).Scan(ctx, &prev); err != nil {
		return nil, nil, fmt.Errorf("store: gate: previous rates: %w", err)
	}
	var others []rateRow
	if err := tx.NewRaw(`SELECT x.* FROM rate_series AS rs
CROSS JOIN LATERAL (SELECT r.* FROM exchange_rates AS r
  WHERE r.provider = rs.provider AND r.base = rs.base AND r.quote = rs.quote AND r.as_of <= ? AND `+servable+`
  ORDER BY r.as_of DESC LIMIT 1) AS x
WHERE rs.provider <> ? AND ((rs.base = ? AND rs.quote IN (?)) OR (rs.quote = ? AND rs.base IN (?)))`,
		first.AsOf, first.Provider, first.Base, bun.In(quotes), first.Base, bun.In(quotes)).Scan(ctx, &others); err != nil {
		return nil, nil, fmt.Errorf("store: gate: other providers: %w", err)
	}
	// The day's rows: released ones, and the publisher's own just
	// inserted (not held yet when read). The as_of index bounds the read.
	day := time.Date(first.AsOf.UTC().Year(), first.AsOf.UTC().Month(), first.AsOf.UTC().Day(), 0, 0, 0, 0, time.UTC)
	var sameDay []rateRow
	if err := tx.NewSelect().Model(&sameDay).Where("r.as_of >= ? AND r.as_of < ?", day, day.Add(24*time.Hour)).
		Where(servable).OrderExpr("r.provider, r.id").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("store: gate: rates of %s: %w", day.Format(time.DateOnly), err)
	}
	previous := make(map[string]fx.Rate, len(prev))
	for _, p := range prev {
		previous[p.Quote] = p.rate()
	}
	refs := make([]fx.Rate, len(others))
	for i, o := range others {
		refs[i] = o.rate()
	}
	dayRates := make([]fx.Rate, len(sameDay))
	for i, r := range sameDay {
		dayRates[i] = r.rate()
	}
	lagged := map[int64]bool{}
	for _, in := range fresh {
		var pp *fx.Rate
		if p, ok := previous[in.Quote]; ok {
			pp = &p
		}
		v := judge(Evidence{Rate: in, Previous: pp, Others: refs, SameDay: dayRates})
		if v.Held {
			q, err := recordHold(ctx, tx, in, v.Finding)
			if err != nil {
				return nil, nil, err
			}
			held = append(held, q)
		}
		for _, l := range v.Lagging {
			if lagged[l.Rate.ID] || l.Rate.Provider == in.Provider {
				continue
			}
			lagged[l.Rate.ID] = true
			// A row an operator or the gate already holds, or one an
			// operator released or rejected, keeps its quarantine: the
			// rate_id is unique, and a decision is not taken twice.
			exists, err := tx.NewSelect().Model((*quarantineRow)(nil)).Where("rq.rate_id = ?", l.Rate.ID).Exists(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("store: gate: quarantine of %d: %w", l.Rate.ID, err)
			}
			if exists {
				continue
			}
			q, err := recordHold(ctx, tx, l.Rate, l.Finding)
			if err != nil {
				return nil, nil, err
			}
			lagging = append(lagging, q)
		}
	}
	return held, lagging, nil
}

// recordHold inserts the quarantine of rate for finding f.
func recordHold(ctx context.Context, tx bun.Tx, rate fx.Rate, f policy.Finding) (Quarantine, error) {
	row := newQuarantineRow(rate.ID, f)
	if _, err := tx.NewInsert().Model(&row).Returning("id, created_at").Exec(ctx); err != nil {
		return Quarantine{}, fmt.Errorf("store: gate: record quarantine of %d: %w", rate.ID, err)
	}
	return quarantineOf(row, rate, f.Reference), nil
}

// LatestServable returns, for every stored series of the given providers
// (all when none), the newest released row with as_of ≤ at (zero: now,
// PostgreSQL's clock).
// With codes, only series that touch one of them are read: every leg the
// source policy can use for a pair touches one of its two currencies.
// Each series is one backward index probe, whatever the history length.
func (s *Rates) LatestServable(ctx context.Context, providers, codes []string, at time.Time) ([]fx.Rate, error) {
	var codesArg any // NULL: every series
	if len(codes) > 0 {
		codesArg = codes
	}
	return s.latestOf(ctx, latestSQL, providers, codesArg, at)
}

// LatestServablePair is LatestServable for the series of the pair a/b
// alone, in either direction: what a direct or inverse rate needs, one
// probe per provider instead of one per series touching a or b.
func (s *Rates) LatestServablePair(ctx context.Context, providers []string, a, b string, at time.Time) ([]fx.Rate, error) {
	return s.latestOf(ctx, latestPairSQL, providers, []string{a, b}, at)
}

// latestInner is the newest released row of series rs with as_of ≤ $3,
// or ≤ now() when $3 is NULL: a row is not served before its as_of (the
// CBN's rate of a day is dated at that day's close, and may be fetched
// before it).
const latestInner = `SELECT r.id, r.provider, r.base, r.quote, r.rate, r.as_of, r.fetched_at FROM exchange_rates r
  WHERE r.provider = rs.provider AND r.base = rs.base AND r.quote = rs.quote
    AND r.as_of <= coalesce($3::timestamptz, now()) AND ` + servable + `
  ORDER BY r.as_of DESC LIMIT 1`

// latestSQL: $1 providers (NULL: all), $2 codes (NULL: all series).
const latestSQL = `SELECT x.id, x.provider, x.base, x.quote, x.rate::text, x.as_of, x.fetched_at
FROM rate_series rs CROSS JOIN LATERAL (` + latestInner + `) x
WHERE ($1::text[] IS NULL OR rs.provider = ANY($1::text[]))
  AND ($2::text[] IS NULL OR rs.base = ANY($2::text[]) OR rs.quote = ANY($2::text[]))
ORDER BY x.provider, x.base, x.quote`

// latestPairSQL: $1 providers (NULL: all), $2 the pair, either way round.
const latestPairSQL = `SELECT x.id, x.provider, x.base, x.quote, x.rate::text, x.as_of, x.fetched_at
FROM rate_series rs CROSS JOIN LATERAL (` + latestInner + `) x
WHERE ($1::text[] IS NULL OR rs.provider = ANY($1::text[]))
  AND ((rs.base = ($2::text[])[1] AND rs.quote = ($2::text[])[2]) OR (rs.base = ($2::text[])[2] AND rs.quote = ($2::text[])[1]))
ORDER BY x.provider, x.base, x.quote`

func (s *Rates) latestOf(ctx context.Context, query string, providers []string, codes any, at time.Time) ([]fx.Rate, error) {
	var provArg, atArg any // NULL: every provider, now
	if len(providers) > 0 {
		provArg = providers
	}
	if !at.IsZero() {
		atArg = at.UTC()
	}
	out, err := s.queryRates(ctx, query, provArg, codes, atArg)
	if err != nil {
		return nil, fmt.Errorf("store: latest rates: %w", err)
	}
	return out, nil
}

// RatesByID returns the rows with the given ids, keyed by id.
func (s *Rates) RatesByID(ctx context.Context, ids []int64) (map[int64]fx.Rate, error) {
	return ratesByID(ctx, s.db, ids)
}

// ratesByID is RatesByID for the other domains' reads of the rows they
// cite (a quote's legs, a receipt's legs under verification).
func ratesByID(ctx context.Context, db bun.IDB, ids []int64) (map[int64]fx.Rate, error) {
	var rows []rateRow
	if len(ids) == 0 {
		return map[int64]fx.Rate{}, nil
	}
	if err := db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: rates by id: %w", err)
	}
	out := make(map[int64]fx.Rate, len(rows))
	for _, r := range rows {
		out[r.ID] = r.rate()
	}
	return out, nil
}

// CountRates returns how many rows exchange_rates holds for provider.
func (s *Rates) CountRates(ctx context.Context, provider string) (int64, error) {
	n, err := s.db.NewSelect().Model((*rateRow)(nil)).Where("provider = ?", provider).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count rates: %w", err)
	}
	return n, nil
}

// NewestAsOf returns the as_of of the provider's newest row; false when
// nothing is stored.
func (s *Rates) NewestAsOf(ctx context.Context, provider string) (time.Time, bool, error) {
	var asOf time.Time
	err := s.db.NewSelect().Model((*rateRow)(nil)).Column("as_of").
		Where("provider = ?", provider).OrderExpr("as_of DESC").Limit(1).Scan(ctx, &asOf)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: newest rate of %s: %w", provider, err)
	}
	return asOf.UTC(), true, nil
}

// Span is what exchange_rates holds of one series: its first and last
// as_of, held rows included.
type Span struct {
	Provider, Base, Quote string
	First, Last           time.Time
}

// Coverage returns the span of every stored series of the given
// providers (all when none), ordered by provider, base and quote: two
// index probes per series, whatever the history's length.
func (s *Rates) Coverage(ctx context.Context, providers []string) ([]Span, error) {
	var provs any // NULL: every provider
	if len(providers) > 0 {
		provs = pgdialect.Array(providers)
	}
	var spans []Span
	err := s.db.NewRaw(`SELECT rs.provider, rs.base, rs.quote, f.as_of AS first, l.as_of AS last
FROM rate_series AS rs
CROSS JOIN LATERAL (SELECT r.as_of FROM exchange_rates AS r
  WHERE r.provider = rs.provider AND r.base = rs.base AND r.quote = rs.quote ORDER BY r.as_of LIMIT 1) AS f
CROSS JOIN LATERAL (SELECT r.as_of FROM exchange_rates AS r
  WHERE r.provider = rs.provider AND r.base = rs.base AND r.quote = rs.quote ORDER BY r.as_of DESC LIMIT 1) AS l
WHERE ?::text[] IS NULL OR rs.provider = ANY(?::text[])
ORDER BY rs.provider, rs.base, rs.quote`, provs, provs).Scan(ctx, &spans)
	if err != nil {
		return nil, fmt.Errorf("store: coverage: %w", err)
	}
	for i := range spans {
		spans[i].First, spans[i].Last = spans[i].First.UTC(), spans[i].Last.UTC()
	}
	return spans, nil
}
