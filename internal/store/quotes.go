package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/audit"
	"ces/internal/fx"
)

// quoteRow is one row of conversion_quotes.
type quoteRow struct {
	bun.BaseModel `bun:"table:conversion_quotes"`

	ID              string    `bun:"id,pk,type:uuid"`
	APIKeyID        string    `bun:"api_key_id,type:uuid,notnull"`
	CreatedAt       time.Time `bun:"created_at,notnull"`
	ExpiresAt       time.Time `bun:"expires_at,notnull"`
	Amount          string    `bun:"amount,type:numeric,notnull"`
	FromCurrency    string    `bun:"from_currency,notnull"`
	ToCurrency      string    `bun:"to_currency,notnull"`
	MidRate         string    `bun:"mid_rate,type:numeric,notnull"`
	Margin          string    `bun:"margin,type:numeric,notnull"`
	AppliedRate     string    `bun:"applied_rate,type:numeric,notnull"`
	ConvertedAmount string    `bun:"converted_amount,type:numeric,notnull"`
	Rounding        string    `bun:"rounding,notnull"`
	MinorUnits      int16     `bun:"minor_units,notnull"`
	RatePrecision   int16     `bun:"rate_precision,notnull"`
	Provider        string    `bun:"provider,notnull"`
	PricingRule     string    `bun:"pricing_rule,notnull"`
	AsOf            time.Time `bun:"as_of,notnull"`
	Leg1RateID      int64     `bun:"leg1_rate_id,notnull"`
	Leg2RateID      *int64    `bun:"leg2_rate_id"`
	Hash            string    `bun:"hash,notnull"`
	Stale           *bool     `bun:"stale"`
}

// InsertQuote stores q, unless its key was revoked since it was checked
// or a leg disagrees with its row or is under review (see checkPricing).
func (s *Conversions) InsertQuote(ctx context.Context, q fx.LockedQuote) error {
	if len(q.Legs) == 0 || len(q.Legs) > 2 {
		return fmt.Errorf("store: insert quote: %d legs", len(q.Legs))
	}
	row := quoteRow{
		ID: q.ID, APIKeyID: q.APIKeyID, CreatedAt: q.CreatedAt.UTC(), ExpiresAt: q.ExpiresAt.UTC(), Amount: fx.Exact(q.Amount),
		FromCurrency: q.From, ToCurrency: q.To, MidRate: fx.Exact(q.MidRate), Margin: fx.Exact(q.Margin), AppliedRate: fx.Exact(q.AppliedRate),
		ConvertedAmount: fx.Exact(q.ConvertedAmount), Rounding: q.Rounding, MinorUnits: int16(q.MinorUnits), RatePrecision: int16(q.RatePrecision),
		Provider: q.Provider, PricingRule: q.Rule, AsOf: q.AsOf.UTC(), Leg1RateID: q.Legs[0].ID, Stale: q.Stale,
	}
	if len(q.Legs) == 2 {
		row.Leg2RateID = &q.Legs[1].ID
	}
	row.Hash = audit.QuoteHash(q)
	err := s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if revoked, err := keyRevoked(ctx, tx, q.APIKeyID); err != nil || revoked {
			return errors.Join(err, revokedErr(revoked))
		}
		// A quote locks a price a conversion will execute at: its legs are
		// checked against their rows as a receipt's are.
		if err := checkPricing(ctx, tx, fx.Receipt{Pricing: q.Pricing}); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&row).Exec(ctx)
		return err
	})
	if errors.Is(err, fx.ErrUnauthorized) || pricingRefusal(err) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: insert quote: %w", err)
	}
	return nil
}

// ClientQuote returns the quote id if the client apiKeyID holds it, with
// its rate rows; another client's quote is fx.ErrQuoteNotFound.
func (s *Conversions) ClientQuote(ctx context.Context, apiKeyID, id string) (fx.LockedQuote, error) {
	var row quoteRow
	where, args := clientScope("id = ?", id, apiKeyID)
	err := s.db.NewSelect().Model(&row).Where(where, args...).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return fx.LockedQuote{}, fx.ErrQuoteNotFound
	}
	if err != nil {
		return fx.LockedQuote{}, fmt.Errorf("store: quote: %w", err)
	}
	quotes, err := withQuoteLegs(ctx, s.db, []quoteRow{row})
	if err != nil {
		return fx.LockedQuote{}, err
	}
	return quotes[row.ID].quote, nil
}

// storedQuote is a quote with the hash stored with it.
type storedQuote struct {
	quote fx.LockedQuote
	hash  string
}

// withQuoteLegs turns rows into quotes with their rate rows, by id.
func withQuoteLegs(ctx context.Context, db bun.IDB, rows []quoteRow) (map[string]storedQuote, error) {
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.Leg1RateID)
		if r.Leg2RateID != nil {
			ids = append(ids, *r.Leg2RateID)
		}
	}
	legs, err := ratesByID(ctx, db, ids)
	if err != nil {
		return nil, fmt.Errorf("store: quote legs: %w", err)
	}
	out := make(map[string]storedQuote, len(rows))
	for _, row := range rows {
		q := fx.LockedQuote{
			ID: row.ID, APIKeyID: row.APIKeyID, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(),
			Pricing: fx.Pricing{
				Amount: dec(row.Amount), From: row.FromCurrency, To: row.ToCurrency, MidRate: dec(row.MidRate),
				Margin: dec(row.Margin), AppliedRate: dec(row.AppliedRate), ConvertedAmount: dec(row.ConvertedAmount),
				Rounding: row.Rounding, MinorUnits: int(row.MinorUnits), RatePrecision: int(row.RatePrecision),
				Provider: row.Provider, Rule: row.PricingRule, AsOf: row.AsOf.UTC(), Stale: row.Stale,
			},
		}
		for _, id := range []*int64{&row.Leg1RateID, row.Leg2RateID} {
			if id == nil {
				continue
			}
			l, ok := legs[*id]
			if !ok {
				return nil, fmt.Errorf("store: quote %s: rate row %d is missing", row.ID, *id)
			}
			q.Legs = append(q.Legs, l)
		}
		out[row.ID] = storedQuote{quote: q, hash: row.Hash}
	}
	return out, nil
}

// quotesOf reads the quotes the audit rows executed, by id.
func quotesOf(ctx context.Context, db bun.IDB, rows []auditRow) (map[string]storedQuote, error) {
	var ids []string
	for _, r := range rows {
		if r.QuoteID != nil {
			ids = append(ids, *r.QuoteID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var qrows []quoteRow
	if err := db.NewSelect().Model(&qrows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: verify: quotes: %w", err)
	}
	return withQuoteLegs(ctx, db, qrows)
}
