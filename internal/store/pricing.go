package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/fx"
)

// legsCheckSQL reads, for each leg of r in order, whether the row it
// references says the same (provider, pair, value and as_of, the latter
// to the millisecond the cache keeps), whether that row is released, and
// whether a newer publication of its series is held by the quality gate
// and newer than every released row (as policy.Standing judges it: a held
// backfill that a newer released row supersedes reviews nothing).
// It runs in the transaction that writes r, so a receipt never
// contradicts the rows it references, whatever the cache said, and none
// is priced from a series under review. A leg whose row does not exist
// comes back with same false.
func legsCheckSQL(db bun.IDB, r fx.Receipt) string {
	var values strings.Builder
	args := make([]any, 0, 6*len(r.Legs))
	for i, l := range r.Legs {
		if i > 0 {
			values.WriteString(", ")
		}
		fmt.Fprintf(&values, "(%d, ?::bigint, ?::text, ?::text, ?::text, ?::numeric, ?::timestamptz)", i)
		args = append(args, l.ID, l.Provider, l.Base, l.Quote, fx.Exact(l.Value), l.AsOf.UTC().Truncate(time.Millisecond))
	}
	return db.NewRaw(`SELECT l.ord,
  r.id IS NOT NULL AND r.provider = l.provider AND r.base = l.base AND r.quote = l.quote AND r.rate = l.rate
    AND date_trunc('milliseconds', r.as_of) = l.as_of AS same,
  r.id IS NOT NULL AND `+servable+` AS released,
  r.id IS NOT NULL AND EXISTS (SELECT 1 FROM exchange_rates n JOIN rate_quarantines nq ON nq.rate_id = n.id
    WHERE n.provider = r.provider AND n.base = r.base AND n.quote = r.quote AND n.as_of > r.as_of
      AND NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions nd WHERE nd.quarantine_id = nq.id)
      AND NOT EXISTS (SELECT 1 FROM exchange_rates m
        WHERE m.provider = n.provider AND m.base = n.base AND m.quote = n.quote AND m.as_of > n.as_of
          AND NOT EXISTS (SELECT 1 FROM rate_quarantines mq WHERE mq.rate_id = m.id
            AND NOT EXISTS (SELECT 1 FROM rate_quarantine_decisions md WHERE md.quarantine_id = mq.id AND md.decision = 'released')))) AS held
FROM (VALUES `+values.String()+`) AS l(ord, id, provider, base, quote, rate, as_of)
LEFT JOIN exchange_rates r ON r.id = l.id
ORDER BY l.ord`, args...).String()
}

// quoteCheckSQL reads whether quote id still holds by the database's
// clock: its TTL counted from when the database recorded it, so that
// every replica's conversion of a quote is judged by one clock.
func quoteCheckSQL(db bun.IDB, id string) string {
	return db.NewRaw(`SELECT coalesce((SELECT coalesce(recorded_at, created_at) + (expires_at - created_at) > now()
  FROM conversion_quotes WHERE id = ?::uuid), false)`, id).String()
}

// legState is one row of legsCheckSQL.
type legState struct {
	Ord      int  `bun:"ord"`
	Same     bool `bun:"same"`
	Released bool `bun:"released"`
	Held     bool `bun:"held"`
}

// judgeLegs turns the states of r's legs into the refusal they call for:
// fx.ErrRateMismatch when a leg disagrees with its row (or the row is
// missing), fx.ErrRateUnderReview when a leg's row is not released or
// its series has a newer publication held.
func judgeLegs(r fx.Receipt, states []legState) error {
	if len(states) != len(r.Legs) {
		return fmt.Errorf("%w: %d of %d legs found", fx.ErrRateMismatch, len(states), len(r.Legs))
	}
	for i, st := range states {
		l := r.Legs[i]
		if !st.Same {
			return fmt.Errorf("%w: leg %d (%s %s/%s %s, row %d)", fx.ErrRateMismatch, i+1, l.Provider, l.Base, l.Quote, fx.Exact(l.Value), l.ID)
		}
		if !st.Released || st.Held {
			return fmt.Errorf("%w: the quality gate holds a newer %s %s/%s rate than the one this conversion would use (row %d); conversions wait for an operator's decision",
				fx.ErrRateUnderReview, l.Provider, l.Base, l.Quote, l.ID)
		}
	}
	return nil
}

// checkPricing runs legsCheckSQL and, for a quoted receipt, quoteCheckSQL
// in tx, and returns the refusal they call for.
func checkPricing(ctx context.Context, tx bun.Tx, r fx.Receipt) error {
	if len(r.Legs) > 0 {
		var states []legState
		if err := tx.NewRaw("?", bun.Safe(legsCheckSQL(tx, r))).Scan(ctx, &states); err != nil {
			return fmt.Errorf("check legs: %w", err)
		}
		if err := judgeLegs(r, states); err != nil {
			return err
		}
	}
	if r.QuoteID != "" {
		var live bool
		if err := tx.QueryRowContext(ctx, quoteCheckSQL(tx, r.QuoteID)).Scan(&live); err != nil {
			return fmt.Errorf("check quote: %w", err)
		}
		if !live {
			return quoteExpired(r.QuoteID)
		}
	}
	return nil
}

func quoteExpired(id string) error {
	return fmt.Errorf("%w: quote %s expired by the database's clock; ask for a new one", fx.ErrQuoteExpired, id)
}

// pricingRefusal reports whether err is one of checkPricing's refusals,
// which the caller answers as such rather than as a database failure.
func pricingRefusal(err error) bool {
	return errorsIsAny(err, fx.ErrRateMismatch, fx.ErrRateUnderReview, fx.ErrQuoteExpired)
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
