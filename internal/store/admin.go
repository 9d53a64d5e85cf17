package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/fx"
)

// AdminAction is one recorded admin action.
type AdminAction struct {
	bun.BaseModel `bun:"table:admin_actions"`
	ID            int64     `bun:"id,pk,autoincrement"`
	At            time.Time `bun:"at,nullzero,default:now()"`
	Username      string    `bun:"username"`
	Action        string    `bun:"action"`
	Target        string    `bun:"target"`
	Reason        string    `bun:"reason"`
	Outcome       string    `bun:"outcome"`
	Client        string    `bun:"client"`
}

// RecordAdminAction appends an action to the admin audit log.
func (s *Console) RecordAdminAction(ctx context.Context, a AdminAction) error {
	if _, err := s.db.NewInsert().Model(&a).ExcludeColumn("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: record admin action: %w", err)
	}
	return nil
}

// AdminActions returns the newest actions first.
func (s *Console) AdminActions(ctx context.Context, limit int) ([]AdminAction, error) {
	var out []AdminAction
	if err := s.db.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: admin actions: %w", err)
	}
	return out, nil
}

// RateRecord is a stored rate with the ingestion that wrote it.
type RateRecord struct {
	fx.Rate
	WorkflowID    string
	RunID         string
	PayloadSHA256 string
}

func (r rateRow) record() RateRecord {
	return RateRecord{Rate: r.rate(), WorkflowID: r.WorkflowID, RunID: r.RunID, PayloadSHA256: r.PayloadSHA256}
}

// RateFilter narrows the rates listing; zero fields do not filter.
type RateFilter struct {
	Provider, Base, Quote string
	From, To              time.Time // as_of in [From, To)
}

// Cursor is a keyset position: the last row of the previous page.
type Cursor struct {
	AsOf time.Time
	ID   int64
}

func (f RateFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Provider != "" {
		q = q.Where("provider = ?", f.Provider)
	}
	if f.Base != "" {
		q = q.Where("base = ?", f.Base)
	}
	if f.Quote != "" {
		q = q.Where("quote = ?", f.Quote)
	}
	if !f.From.IsZero() {
		q = q.Where("as_of >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("as_of < ?", f.To.UTC())
	}
	return q
}

// RatesPage returns up to limit rates matching f, newest first, after the
// cursor (nil: from the newest). Keyset pagination keeps every page as
// cheap as the first, however deep.
func (s *Rates) RatesPage(ctx context.Context, f RateFilter, after *Cursor, limit int) ([]RateRecord, error) {
	var rows []rateRow
	q := f.apply(s.db.NewSelect().Model(&rows)).OrderExpr("as_of DESC, id DESC").Limit(int64(limit))
	if after != nil {
		q = q.Where("(as_of, id) < (?, ?)", after.AsOf.UTC(), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: rates page: %w", err)
	}
	out := make([]RateRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// StreamRates calls fn for every rate matching f, newest first, reading
// in pages so memory stays flat whatever the size of the result.
func (s *Rates) StreamRates(ctx context.Context, f RateFilter, fn func(RateRecord) error) error {
	var after *Cursor
	for {
		page, err := s.RatesPage(ctx, f, after, 2000)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < 2000 {
			return nil
		}
		last := page[len(page)-1]
		after = &Cursor{AsOf: last.AsOf, ID: last.ID}
	}
}

// RateRecordByID returns one stored rate with its origin.
func (s *Rates) RateRecordByID(ctx context.Context, id int64) (RateRecord, error) {
	var row rateRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return RateRecord{}, ErrNotFound
	}
	if err != nil {
		return RateRecord{}, fmt.Errorf("store: rate %d: %w", id, err)
	}
	return row.record(), nil
}

// ConversionFilter narrows the conversions listing.
type ConversionFilter struct {
	From, To       string
	Since, Until   time.Time
	ID             string
	IdempotencyKey string
}

// ConversionsPage returns receipts matching f, newest first, before the
// cursor seq (0: from the newest). Legs carry only their ids.
func (s *Conversions) ConversionsPage(ctx context.Context, f ConversionFilter, beforeSeq int64, limit int) ([]fx.Receipt, []int64, error) {
	var rows []auditRow
	q := s.db.NewSelect().Model(&rows).OrderExpr("seq DESC").Limit(int64(limit))
	if f.From != "" {
		q = q.Where("from_currency = ?", f.From)
	}
	if f.To != "" {
		q = q.Where("to_currency = ?", f.To)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if f.ID != "" {
		q = q.Where("id::text = ?", f.ID)
	}
	if f.IdempotencyKey != "" {
		q = q.Where("idempotency_key = ?", f.IdempotencyKey)
	}
	if beforeSeq > 0 {
		q = q.Where("seq < ?", beforeSeq)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("store: conversions page: %w", err)
	}
	out := make([]fx.Receipt, len(rows))
	seqs := make([]int64, len(rows))
	for i, r := range rows {
		out[i], seqs[i] = r.receipt(), r.Seq
	}
	return out, seqs, nil
}
