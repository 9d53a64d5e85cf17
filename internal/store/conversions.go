package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/fx"
	"ces/internal/tracing"
)

// auditRow is one row of conversion_audits.
type auditRow struct {
	bun.BaseModel `bun:"table:conversion_audits"`

	Seq             int64     `bun:"seq"` // GENERATED ALWAYS: excluded from inserts
	ID              string    `bun:"id,pk,type:uuid"`
	CreatedAt       time.Time `bun:"created_at,notnull"`
	Amount          string    `bun:"amount,type:numeric,notnull"`
	FromCurrency    string    `bun:"from_currency,notnull"`
	ToCurrency      string    `bun:"to_currency,notnull"`
	MidRate         string    `bun:"mid_rate,type:numeric,notnull"`
	Margin          string    `bun:"margin,type:numeric,notnull"`
	AppliedRate     string    `bun:"applied_rate,type:numeric,notnull"`
	ConvertedAmount string    `bun:"converted_amount,type:numeric,notnull"`
	Rounding        string    `bun:"rounding,notnull"`
	Provider        string    `bun:"provider,notnull"`
	AsOf            time.Time `bun:"as_of,notnull"`
	Leg1RateID      *int64    `bun:"leg1_rate_id"`
	Leg2RateID      *int64    `bun:"leg2_rate_id"`
	RequestID       string    `bun:"request_id,notnull"`
	IdempotencyKey  *string   `bun:"idempotency_key"`
	RequestSHA256   string    `bun:"request_sha256,notnull"`
	ClientAddress   string    `bun:"client_address,notnull"`
	Hash            string    `bun:"hash,notnull"`
	PricingRule     *string   `bun:"pricing_rule"`
	MinorUnits      *int16    `bun:"minor_units"`
	RatePrecision   *int16    `bun:"rate_precision"`
	APIKeyID        *string   `bun:"api_key_id,type:uuid"`
	QuoteID         *string   `bun:"quote_id,type:uuid"`
	Stale           *bool     `bun:"stale"`
}

func toAuditRow(r fx.Receipt) auditRow {
	row := auditRow{
		ID: r.ID, CreatedAt: r.CreatedAt.UTC(), Amount: fx.Exact(r.Amount), FromCurrency: r.From, ToCurrency: r.To,
		MidRate: fx.Exact(r.MidRate), Margin: fx.Exact(r.Margin), AppliedRate: fx.Exact(r.AppliedRate),
		ConvertedAmount: fx.Exact(r.ConvertedAmount), Rounding: r.Rounding, Provider: r.Provider, AsOf: r.AsOf.UTC(),
		RequestID: r.RequestID, RequestSHA256: r.RequestSHA256, ClientAddress: r.ClientAddress, Hash: r.Hash, Stale: r.Stale,
	}
	if len(r.Legs) > 0 {
		row.Leg1RateID = &r.Legs[0].ID
	}
	if len(r.Legs) > 1 {
		row.Leg2RateID = &r.Legs[1].ID
	}
	if r.IdempotencyKey != "" {
		k := r.IdempotencyKey
		row.IdempotencyKey = &k
	}
	if r.Rule != "" {
		rule := r.Rule
		row.PricingRule = &rule
	}
	if r.RatePrecision != 0 {
		mu, rp := int16(r.MinorUnits), int16(r.RatePrecision)
		row.MinorUnits, row.RatePrecision = &mu, &rp
	}
	if r.APIKeyID != "" {
		k := r.APIKeyID
		row.APIKeyID = &k
	}
	if r.QuoteID != "" {
		q := r.QuoteID
		row.QuoteID = &q
	}
	return row
}

func dec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		// NUMERIC columns with CHECKs excluding NaN always parse.
		panic(fmt.Sprintf("store: NUMERIC %q does not parse: %v", s, err))
	}
	return d
}

// receipt rebuilds the receipt of a row; legs carry only their ids until
// withLegs fills them in.
func (a auditRow) receipt() fx.Receipt {
	r := fx.Receipt{
		ID: a.ID, CreatedAt: a.CreatedAt.UTC(), RequestID: a.RequestID, RequestSHA256: a.RequestSHA256,
		ClientAddress: a.ClientAddress, Hash: a.Hash,
		Pricing: fx.Pricing{
			Amount: dec(a.Amount), From: a.FromCurrency, To: a.ToCurrency, MidRate: dec(a.MidRate), Margin: dec(a.Margin),
			AppliedRate: dec(a.AppliedRate), ConvertedAmount: dec(a.ConvertedAmount), Rounding: a.Rounding,
			Provider: a.Provider, AsOf: a.AsOf.UTC(), Stale: a.Stale,
		},
	}
	if a.IdempotencyKey != nil {
		r.IdempotencyKey = *a.IdempotencyKey
	}
	if a.PricingRule != nil {
		r.Rule = *a.PricingRule
	}
	if a.APIKeyID != nil {
		r.APIKeyID = *a.APIKeyID
	}
	if a.QuoteID != nil {
		r.QuoteID = *a.QuoteID
	}
	if a.MinorUnits != nil && a.RatePrecision != nil {
		r.MinorUnits, r.RatePrecision = int(*a.MinorUnits), int(*a.RatePrecision)
	}
	for _, id := range []*int64{a.Leg1RateID, a.Leg2RateID} {
		if id != nil {
			r.Legs = append(r.Legs, fx.Rate{ID: *id})
		}
	}
	return r
}

func (s *Conversions) withLegs(ctx context.Context, db bun.IDB, r fx.Receipt) (fx.Receipt, error) {
	if len(r.Legs) == 0 {
		return r, nil
	}
	ids := make([]int64, len(r.Legs))
	for i, l := range r.Legs {
		ids[i] = l.ID
	}
	var rows []rateRow
	if err := db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return fx.Receipt{}, fmt.Errorf("store: legs of conversion %s: %w", r.ID, err)
	}
	byID := map[int64]fx.Rate{}
	for _, row := range rows {
		byID[row.ID] = row.rate()
	}
	for i, l := range r.Legs {
		full, ok := byID[l.ID]
		if !ok {
			return fx.Receipt{}, fmt.Errorf("store: conversion %s references missing rate %d", r.ID, l.ID)
		}
		r.Legs[i] = full
	}
	return r, nil
}

// ConversionByID returns the stored receipt with its legs.
func (s *Conversions) ConversionByID(ctx context.Context, id string) (fx.Receipt, error) {
	return s.conversionWhere(ctx, s.db, "id = ?", id)
}

// ClientConversionByID returns the receipt id if the client apiKeyID
// made it; another client's receipt is fx.ErrConversionNotFound, as if it
// did not exist.
func (s *Conversions) ClientConversionByID(ctx context.Context, apiKeyID, id string) (fx.Receipt, error) {
	where, args := clientScope("id = ?", id, apiKeyID)
	return s.conversionWhere(ctx, s.db, where, args...)
}

// ConversionByKey returns the receipt the client apiKeyID stored under an
// idempotency key ("" for the scope of receipts made before keys).
func (s *Conversions) ConversionByKey(ctx context.Context, apiKeyID, key string) (fx.Receipt, error) {
	return s.conversionByKey(ctx, s.db, apiKeyID, key)
}

// conversionByKey finds the receipt through conversion_idempotency_keys,
// the table whose unique constraint makes a key name one receipt (the
// partitioned audit table can have no such index).
func (s *Conversions) conversionByKey(ctx context.Context, db bun.IDB, apiKeyID, key string) (fx.Receipt, error) {
	where, args := clientScope("idempotency_key = ?", key, apiKeyID)
	return s.conversionWhere(ctx, db, "(id, created_at) IN (SELECT receipt_id, created_at FROM conversion_idempotency_keys WHERE "+where+")", args...)
}

// clientScope adds the client's scope to a condition on one value: the
// client's key, or no key (receipts from before keys). Spelled as = and
// IS NULL, not IS NOT DISTINCT FROM, so PostgreSQL uses the
// (api_key_id, idempotency_key) index.
func clientScope(cond string, arg any, apiKeyID string) (string, []any) {
	if apiKeyID == "" {
		return cond + " AND api_key_id IS NULL", []any{arg}
	}
	return cond + " AND api_key_id = ?", []any{arg, apiKeyID}
}

func (s *Conversions) conversionWhere(ctx context.Context, db bun.IDB, where string, args ...any) (fx.Receipt, error) {
	var row auditRow
	if err := db.NewSelect().Model(&row).Where(where, args...).Limit(1).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fx.Receipt{}, fx.ErrConversionNotFound
		}
		return fx.Receipt{}, fmt.Errorf("store: conversion: %w", err)
	}
	return s.withLegs(ctx, db, row.receipt())
}

// advisoryKey maps an idempotency key onto PostgreSQL's 64-bit advisory
// lock space; a collision only makes two keys wait on each other.
func advisoryKey(apiKeyID, key string) int64 {
	sum := sha256.Sum256([]byte("ces-idempotency:" + apiKeyID + ":" + key))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// RecordConversion inserts r in one transaction. With an idempotency key
// it first takes the key's transaction-scoped advisory lock without
// waiting (fx.ErrIdempotencyKeyInUse when another request holds it), then
// returns the stored receipt instead when the key was already used:
// replayed is true for the same request, fx.ErrIdempotencyKeyReused for
// another. Nothing is written unless r is.
func (s *Conversions) RecordConversion(ctx context.Context, r fx.Receipt) (stored fx.Receipt, replayed bool, err error) {
	if r.IdempotencyKey == "" {
		return s.RecordNewConversion(ctx, r)
	}
	ctx, span := startWrite(ctx, r, "transaction")
	defer func() { span.Fail(err); span.SetBool("ces.replayed", replayed); span.End() }()
	err = s.writeTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		{
			var locked bool
			if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", advisoryKey(r.APIKeyID, r.IdempotencyKey)).Scan(ctx, &locked); err != nil {
				return fmt.Errorf("lock idempotency key: %w", err)
			}
			if !locked {
				return fx.ErrIdempotencyKeyInUse
			}
			prev, err := s.conversionByKey(ctx, tx, r.APIKeyID, r.IdempotencyKey)
			switch {
			case err == nil:
				if prev.RequestSHA256 != r.RequestSHA256 {
					return fx.ErrIdempotencyKeyReused
				}
				stored, replayed = prev, true
				return nil
			case !errors.Is(err, fx.ErrConversionNotFound):
				return err
			}
		}
		if revoked, err := keyRevoked(ctx, tx, r.APIKeyID); err != nil || revoked {
			return errors.Join(err, revokedErr(revoked))
		}
		if err := checkPricing(ctx, tx, r); err != nil {
			return err
		}
		row := toAuditRow(r)
		if _, err := tx.NewInsert().Model(&row).ExcludeColumn("seq").Exec(ctx); err != nil {
			return quoteUsed(fmt.Errorf("insert conversion: %w", err))
		}
		stored = r
		return nil
	})
	if err != nil {
		if errors.Is(err, fx.ErrIdempotencyKeyInUse) || errors.Is(err, fx.ErrIdempotencyKeyReused) || errors.Is(err, fx.ErrUnauthorized) || errors.Is(err, fx.ErrQuoteUsed) || pricingRefusal(err) {
			return fx.Receipt{}, false, err
		}
		return fx.Receipt{}, false, fmt.Errorf("store: record conversion: %w", err)
	}
	return stored, replayed, nil
}

// RecordNewConversion inserts r, whose idempotency key (if any) cannot
// have been used before because CES just made it, so it needs no lock or
// lookup. It still runs in a transaction (see writeTx) rather than as one
// autocommitted statement: when ctx ends while the INSERT waits on a lock,
// the driver drops the connection but PostgreSQL's session keeps waiting,
// and an autocommitted INSERT would commit once the lock is gone, after
// the client was told the conversion failed. replayed is always false.
func (s *Conversions) RecordNewConversion(ctx context.Context, r fx.Receipt) (_ fx.Receipt, _ bool, err error) {
	ctx, span := startWrite(ctx, r, "fused")
	defer func() { span.Fail(err); span.End() }()
	row := toAuditRow(r)
	insert := s.db.NewInsert().Model(&row).ExcludeColumn("seq").String()
	check := "SELECT false"
	if r.APIKeyID != "" {
		check = s.db.NewRaw("SELECT EXISTS (SELECT FROM api_key_revocations WHERE key_id = ?::uuid)", r.APIKeyID).String()
	}
	// [BEGIN, the revocation check, the legs check, the quote check, the
	// INSERT]; the checks come back as rows the decision reads.
	stmts := []string{check, "SELECT NULL", "SELECT true", insert}
	if len(r.Legs) > 0 {
		stmts[1] = legsCheckSQL(s.db, r)
	}
	if r.QuoteID != "" {
		stmts[2] = quoteCheckSQL(s.db, r.QuoteID)
	}
	err = s.writeFused(ctx, strings.Join(stmts, ";"), func(results []*pgconn.Result, err error) error {
		// The revocation check's answer is there even when the INSERT
		// failed, and a revoked key learns nothing else (not even that a
		// quote was used).
		if len(results) >= 2 && len(results[1].Rows) == 1 && len(results[1].Rows[0]) == 1 && string(results[1].Rows[0][0]) == "t" {
			return fx.ErrUnauthorized
		}
		if len(results) >= 4 {
			if len(r.Legs) > 0 {
				states := make([]legState, 0, len(results[2].Rows))
				for _, row := range results[2].Rows {
					states = append(states, legState{Same: isTrue(row[1]), Released: isTrue(row[2]), Held: isTrue(row[3])})
				}
				if refusal := judgeLegs(r, states); refusal != nil {
					return refusal
				}
			}
			if len(results[3].Rows) != 1 || !isTrue(results[3].Rows[0][0]) {
				return quoteExpired(r.QuoteID)
			}
		}
		if err == nil && len(results) != 5 {
			return fmt.Errorf("%d results for 5 statements", len(results))
		}
		return err
	})
	err = quoteUsed(err)
	if errors.Is(err, fx.ErrUnauthorized) || errors.Is(err, fx.ErrQuoteUsed) || pricingRefusal(err) {
		return fx.Receipt{}, false, err
	}
	if err != nil {
		return fx.Receipt{}, false, fmt.Errorf("store: record conversion: %w", err)
	}
	return r, false, nil
}

// startWrite opens the span of a conversion's write. The fused write goes
// through PgConn.Exec, which pgx's tracer never sees, so this span is the
// only record of it; it names the receipt, never the statement's text,
// which holds the amounts.
func startWrite(ctx context.Context, r fx.Receipt, how string) (context.Context, tracing.Span) {
	ctx, span := tracing.Start(ctx, "store.record_conversion")
	span.SetString("db.system.name", "postgresql")
	span.SetString("ces.receipt_id", r.ID)
	span.SetString("ces.write", how)
	return ctx, span
}

func isTrue(v []byte) bool { return string(v) == "t" }

// writeFused is writeTx in two round trips instead of one per statement:
// BEGIN and stmts (several statements, values already in the text) go in
// one message under ctx; decide gets the results that came back (all, or
// those before a failure) with the error, and returns the outcome; then,
// if that is nil, COMMIT
// under the same grace as writeTx. The ending is the same: a deadline
// during the first message drops the connection with the transaction
// open, so PostgreSQL rolls it back; a COMMIT, once sent, runs to its end.
func (s *Conversions) writeFused(ctx context.Context, stmts string, decide func([]*pgconn.Result, error) error) error {
	conn, err := s.db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	txCtx, cancel := commitContext(ctx)
	defer cancel()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		err := decide(pc.Exec(ctx, "BEGIN;"+stmts).ReadAll())
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		if pc.IsClosed() {
			return err // PostgreSQL rolls back a session that went away
		}
		if _, endErr := pc.Exec(txCtx, end).ReadAll(); endErr != nil && err == nil {
			err = endErr
		}
		return err
	})
}

// commitGrace is how long a COMMIT may outlive the deadline of the
// statements before it.
const commitGrace = time.Second

// commitContext is the context a transaction ends under: ctx's deadline
// plus commitGrace, not cancelled with ctx.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	grace := commitGrace
	if dl, ok := ctx.Deadline(); ok {
		grace += time.Until(dl)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), grace)
}

// writeTx runs fn's statements under ctx in a transaction whose COMMIT is
// not cut short by ctx, so a write ends in one of two known ways:
//   - ctx ends during a statement: the driver drops the connection, and
//     the session, once its statement finishes (a lock it waits on may
//     come later), finds no COMMIT and rolls back;
//   - every statement succeeded: COMMIT runs to its end even if the
//     deadline passes meanwhile (commitGrace at most), and the caller
//     answers with the row instead of an error while the row commits.
//
// The connection is taken under ctx, so waiting for one is bounded too.
func (s *Conversions) writeTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	txCtx, cancel := commitContext(ctx)
	defer cancel()
	tx, err := conn.BeginTx(txCtx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CountConversions returns how many audit rows exist.
func (s *Conversions) CountConversions(ctx context.Context) (int64, error) {
	n, err := s.db.NewSelect().Model((*auditRow)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count conversions: %w", err)
	}
	return int64(n), nil
}

// revokedErr is fx.ErrUnauthorized when revoked: a key revoked after the
// request was authenticated writes nothing.
func revokedErr(revoked bool) error {
	if revoked {
		return fx.ErrUnauthorized
	}
	return nil
}

// quoteUsed turns the violation of the one-receipt-per-quote constraint
// (of conversion_quote_uses, which the audit table's insert trigger
// writes) into fx.ErrQuoteUsed: a concurrent conversion of the quote won.
func quoteUsed(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "conversion_quote_uses_quote_id" {
		return fx.ErrQuoteUsed
	}
	return err
}
