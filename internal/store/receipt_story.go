package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"ces/internal/clients"
	"ces/internal/fx"
)

// ReceiptQuote is a quote as the console shows it beside the receipt
// that executed it: the quote with its rate rows, the hash stored with
// it, and the receipt that executed it ("" while none has).
type ReceiptQuote struct {
	Quote      fx.LockedQuote
	Hash       string
	ExecutedBy string
}

// QuoteByID returns the quote id with its rate rows and the receipt that
// executed it, whichever client holds it (the console reads every
// client's); ErrNotFound when there is none.
func (s *Conversions) QuoteByID(ctx context.Context, id string) (ReceiptQuote, error) {
	var row quoteRow
	err := s.db.NewSelect().Model(&row).Where("id = ?::uuid", id).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ReceiptQuote{}, ErrNotFound
	}
	if err != nil {
		return ReceiptQuote{}, fmt.Errorf("store: quote %s: %w", id, err)
	}
	quotes, err := withQuoteLegs(ctx, s.db, []quoteRow{row})
	if err != nil {
		return ReceiptQuote{}, err
	}
	out := ReceiptQuote{Quote: quotes[row.ID].quote, Hash: row.Hash}
	// At most one receipt executes a quote (conversion_quote_uses).
	var by []string
	if err := s.db.NewRaw("SELECT receipt_id::text FROM conversion_quote_uses WHERE quote_id = ?::uuid", id).Scan(ctx, &by); err != nil {
		return ReceiptQuote{}, fmt.Errorf("store: quote %s: its receipt: %w", id, err)
	}
	if len(by) == 1 {
		out.ExecutedBy = by[0]
	}
	return out, nil
}

// APIKeyByID returns the key id, revoked or not, without its hash;
// ErrNotFound when there is none.
func (s *Keys) APIKeyByID(ctx context.Context, id string) (clients.Key, error) {
	var rows []apiKeyRow
	if err := s.selectAPIKeys(s.db, &rows).Where("k.id = ?::uuid", id).Limit(1).Scan(ctx); err != nil {
		return clients.Key{}, fmt.Errorf("store: api key %s: %w", id, err)
	}
	if len(rows) == 0 {
		return clients.Key{}, ErrNotFound
	}
	return rows[0].key(), nil
}
