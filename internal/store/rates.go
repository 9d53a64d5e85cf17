package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/fx"
)

// rateRow is one row of exchange_rates.
type rateRow struct {
	bun.BaseModel `bun:"table:exchange_rates"`

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
}

// InsertResult reports what InsertRates did.
type InsertResult struct {
	// Inserted counts the rows this call added; AlreadyPresent those that
	// an earlier ingestion had stored with the same natural key.
	Inserted       int
	AlreadyPresent int
	// Conflicts lists quotes whose stored value differs from the one just
	// fetched for the same as_of: the provider revised a published rate.
	// History keeps the first value; the revision is reported, not applied.
	Conflicts []string
	// Stored are the rows now in the table for this set, with their ids,
	// whoever inserted them.
	Stored []fx.Rate
}

// InsertRates stores set with ON CONFLICT DO NOTHING, so repeating it
// inserts nothing twice, and returns the stored rows for the set.
func (s *Store) InsertRates(ctx context.Context, set fx.RateSet, origin Origin) (InsertResult, error) {
	if len(set.Rates) == 0 {
		return InsertResult{}, nil
	}
	rows := make([]rateRow, len(set.Rates))
	for i, q := range set.Rates {
		rows[i] = rateRow{
			Provider: set.Provider, Base: set.Base, Quote: q.Quote, Rate: fx.Exact(q.Value),
			AsOf: set.AsOf.UTC(), FetchedAt: origin.FetchedAt.UTC(),
			WorkflowID: origin.WorkflowID, RunID: origin.RunID, PayloadSHA256: set.PayloadHash,
		}
	}
	var res InsertResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := tx.NewInsert().Model(&rows).Ignore().Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("rows affected: %w", err)
		}
		// bun rescans RETURNING into rows, which ON CONFLICT DO NOTHING
		// shortens to the inserted ones: count against the set instead.
		res.Inserted = int(n)
		res.AlreadyPresent = len(set.Rates) - int(n)

		quotes := make([]string, len(set.Rates))
		for i, q := range set.Rates {
			quotes[i] = q.Quote
		}
		var stored []rateRow
		if err := tx.NewSelect().Model(&stored).
			Where("provider = ? AND base = ? AND as_of = ?", set.Provider, set.Base, set.AsOf.UTC()).
			Where("quote IN (?)", bun.In(quotes)).
			Order("quote").Scan(ctx); err != nil {
			return fmt.Errorf("read back: %w", err)
		}
		want := make(map[string]decimal.Decimal, len(set.Rates))
		for _, q := range set.Rates {
			want[q.Quote] = q.Value
		}
		for _, row := range stored {
			if !decimal.RequireFromString(row.Rate).Equal(want[row.Quote]) {
				res.Conflicts = append(res.Conflicts, row.Quote)
			}
			res.Stored = append(res.Stored, row.rate())
		}
		return nil
	})
	if err != nil {
		return InsertResult{}, fmt.Errorf("store: insert rates %s/%s at %s: %w", set.Provider, set.Base, set.AsOf.Format(time.RFC3339), err)
	}
	return res, nil
}

// RateAt returns the newest stored provider rate base→quote with
// as_of ≤ at, the rate in force at that instant. A zero at means "now and
// ever after": the newest row.
func (s *Store) RateAt(ctx context.Context, provider, base, quote string, at time.Time) (fx.Rate, error) {
	var row rateRow
	q := s.db.NewSelect().Model(&row).
		Where("provider = ? AND base = ? AND quote = ?", provider, base, quote).
		OrderExpr("as_of DESC").Limit(1)
	if !at.IsZero() {
		q = q.Where("as_of <= ?", at.UTC())
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fx.Rate{}, fmt.Errorf("store: rate %s %s/%s: %w", provider, base, quote, fx.ErrRateNotFound)
		}
		return fx.Rate{}, fmt.Errorf("store: rate %s %s/%s: %w", provider, base, quote, err)
	}
	return row.rate(), nil
}

// ProviderBase returns the base currency of the provider's newest rows as of
// at (zero: now). It reports fx.ErrNoRates when nothing is stored.
func (s *Store) ProviderBase(ctx context.Context, provider string, at time.Time) (string, error) {
	var base string
	q := s.db.NewSelect().Model((*rateRow)(nil)).Column("base").
		Where("provider = ?", provider).OrderExpr("as_of DESC").Limit(1)
	if !at.IsZero() {
		q = q.Where("as_of <= ?", at.UTC())
	}
	if err := q.Scan(ctx, &base); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("store: base of %s: %w", provider, fx.ErrNoRates)
		}
		return "", fmt.Errorf("store: base of %s: %w", provider, err)
	}
	return base, nil
}

// LatestRates returns, for every quote the provider has published against
// base, the newest row with as_of ≤ at (zero: now), sorted by quote.
func (s *Store) LatestRates(ctx context.Context, provider, base string, at time.Time) ([]fx.Rate, error) {
	var rows []rateRow
	// DISTINCT ON walks the natural-key index: one row per quote.
	q := s.db.NewSelect().Model(&rows).
		DistinctOn("quote").
		Where("provider = ? AND base = ?", provider, base).
		OrderExpr("quote, as_of DESC")
	if !at.IsZero() {
		q = q.Where("as_of <= ?", at.UTC())
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: latest rates %s/%s: %w", provider, base, err)
	}
	out := make([]fx.Rate, len(rows))
	for i, r := range rows {
		out[i] = r.rate()
	}
	return out, nil
}

// History returns the stored provider rows base→quote with start ≤ as_of < end, oldest first.
func (s *Store) History(ctx context.Context, provider, base, quote string, start, end time.Time) ([]fx.Rate, error) {
	var rows []rateRow
	if err := s.db.NewSelect().Model(&rows).
		Where("provider = ? AND base = ? AND quote = ?", provider, base, quote).
		Where("as_of >= ? AND as_of < ?", start.UTC(), end.UTC()).
		OrderExpr("as_of").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: history %s %s/%s: %w", provider, base, quote, err)
	}
	out := make([]fx.Rate, len(rows))
	for i, r := range rows {
		out[i] = r.rate()
	}
	return out, nil
}

// RatesByID returns the rows with the given ids, keyed by id.
func (s *Store) RatesByID(ctx context.Context, ids []int64) (map[int64]fx.Rate, error) {
	var rows []rateRow
	if len(ids) == 0 {
		return map[int64]fx.Rate{}, nil
	}
	if err := s.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: rates by id: %w", err)
	}
	out := make(map[int64]fx.Rate, len(rows))
	for _, r := range rows {
		out[r.ID] = r.rate()
	}
	return out, nil
}

// CountRates returns how many rows exchange_rates holds for provider.
func (s *Store) CountRates(ctx context.Context, provider string) (int64, error) {
	n, err := s.db.NewSelect().Model((*rateRow)(nil)).Where("provider = ?", provider).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count rates: %w", err)
	}
	return n, nil
}

// NewestAsOf returns the as_of of the provider's newest row; false when
// nothing is stored.
func (s *Store) NewestAsOf(ctx context.Context, provider string) (time.Time, bool, error) {
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
