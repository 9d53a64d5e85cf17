package store

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"ces/internal/audit"
	"ces/internal/fx"
)

// verifyBatch is how many audit rows verify-audit reads at a time.
const verifyBatch = 5000

// rowVerifier checks audit rows for one verify-audit run. Rate rows never
// change, so the legs it has read serve every later batch: a log priced
// from a few thousand rate rows reads each once, not once per batch.
type rowVerifier struct {
	s    *Audit
	legs map[int64]fx.Rate
}

func (s *Audit) newRowVerifier() *rowVerifier {
	return &rowVerifier{s: s, legs: map[int64]fx.Rate{}}
}

// auditColumns are the columns verify-audit reads, in scanAuditRow's order.
const auditColumns = `seq, id::text, created_at, amount::text, from_currency, to_currency, mid_rate::text, margin::text,
applied_rate::text, converted_amount::text, rounding, provider, as_of, leg1_rate_id, leg2_rate_id, request_id,
idempotency_key, request_sha256, client_address, hash, pricing_rule, minor_units, rate_precision, api_key_id::text,
quote_id::text, stale`

// verifiedBatch is one batch of rows read, with the quotes they executed.
type verifiedBatch struct {
	rows   []auditRow
	quotes map[string]storedQuote
	err    error
}

// verifyRows recomputes the hash and the arithmetic of every audit row
// written by a transaction in [from, to) and returns their digest, or
// names the first row (by seq) whose stored hash or figures do not match.
// The next batch is read while one is checked, and a batch's rows are
// checked on every core; the digest is folded in seq order.
func (v *rowVerifier) verifyRows(ctx context.Context, from, to uint64, progress func(done int64)) (*audit.Digest, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan verifiedBatch, 1)
	go func() {
		defer close(batches)
		lastSeq := int64(-1)
		for {
			rows, err := v.read(ctx, from, to, lastSeq)
			var quotes map[string]storedQuote
			if err == nil {
				quotes, err = quotesOf(ctx, v.s.db, rows)
			}
			select {
			case batches <- verifiedBatch{rows: rows, quotes: quotes, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(rows) < verifyBatch {
				return
			}
			lastSeq = rows[len(rows)-1].Seq
		}
	}()
	out := &audit.Digest{}
	for b := range batches {
		if b.err != nil {
			return nil, "", b.err
		}
		if err := v.loadLegs(ctx, b.rows); err != nil {
			return nil, "", err
		}
		hashes, problems := v.check(b)
		for i, row := range b.rows {
			if problems[i] != "" {
				return out, problems[i], nil
			}
			out.Add(audit.SealedRow{Seq: row.Seq, Hash: hashes[i]})
		}
		progress(out.Count)
	}
	return out, "", nil
}

// read returns up to verifyBatch audit rows of transactions in [from, to)
// after lastSeq, in seq order, scanned without reflection.
func (v *rowVerifier) read(ctx context.Context, from, to uint64, lastSeq int64) ([]auditRow, error) {
	rows, err := v.s.db.DB.QueryContext(ctx, `SELECT `+auditColumns+` FROM conversion_audits
WHERE xact_id >= $1::xid8 AND xact_id < $2::xid8 AND seq > $3 ORDER BY seq LIMIT $4`,
		strconv.FormatUint(from, 10), strconv.FormatUint(to, 10), lastSeq, verifyBatch)
	if err != nil {
		return nil, fmt.Errorf("store: verify rows: %w", err)
	}
	defer rows.Close()
	out := make([]auditRow, 0, verifyBatch)
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.Seq, &a.ID, &a.CreatedAt, &a.Amount, &a.FromCurrency, &a.ToCurrency, &a.MidRate, &a.Margin,
			&a.AppliedRate, &a.ConvertedAmount, &a.Rounding, &a.Provider, &a.AsOf, &a.Leg1RateID, &a.Leg2RateID, &a.RequestID,
			&a.IdempotencyKey, &a.RequestSHA256, &a.ClientAddress, &a.Hash, &a.PricingRule, &a.MinorUnits, &a.RatePrecision,
			&a.APIKeyID, &a.QuoteID, &a.Stale); err != nil {
			return nil, fmt.Errorf("store: verify rows: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: verify rows: %w", err)
	}
	return out, nil
}

// loadLegs reads the rate rows of rows that earlier batches did not.
func (v *rowVerifier) loadLegs(ctx context.Context, rows []auditRow) error {
	var missing []int64
	seen := map[int64]bool{}
	for _, row := range rows {
		for _, id := range []*int64{row.Leg1RateID, row.Leg2RateID} {
			if id != nil && !seen[*id] {
				if _, ok := v.legs[*id]; !ok {
					missing = append(missing, *id)
				}
				seen[*id] = true
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	legs, err := ratesByID(ctx, v.s.db, missing)
	if err != nil {
		return fmt.Errorf("store: verify rows: %w", err)
	}
	for id, r := range legs {
		v.legs[id] = r
	}
	return nil
}

// check recomputes each row's hash and figures on every core and returns
// the hashes and, per row, what is wrong with it ("" when nothing).
func (v *rowVerifier) check(b verifiedBatch) ([]string, []string) {
	hashes, problems := make([]string, len(b.rows)), make([]string, len(b.rows))
	workers := min(runtime.GOMAXPROCS(0), max(len(b.rows)/500, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(b.rows); i += workers {
				hashes[i], problems[i] = v.checkRow(b.rows[i], b.quotes)
			}
		}()
	}
	wg.Wait()
	return hashes, problems
}

// checkRow is one row's verification: its hash, its figures against its
// legs, and, when it executed a quote, the quote's hash and figures.
func (v *rowVerifier) checkRow(row auditRow, quotes map[string]storedQuote) (string, string) {
	r := row.receipt()
	computed := audit.ReceiptHash(r)
	if computed != row.Hash {
		return computed, fmt.Sprintf("audit row %s (seq %d): stored hash does not match its content", row.ID, row.Seq)
	}
	for i, l := range r.Legs {
		r.Legs[i] = v.legs[l.ID] // read-only here: loadLegs filled it before the batch
	}
	if err := audit.CheckArithmetic(r); err != nil {
		return computed, fmt.Sprintf("audit row %s (seq %d): %v", row.ID, row.Seq, err)
	}
	if r.QuoteID != "" {
		q, ok := quotes[r.QuoteID]
		switch {
		case !ok:
			return computed, fmt.Sprintf("audit row %s (seq %d): its quote %s is missing", row.ID, row.Seq, r.QuoteID)
		case audit.QuoteHash(q.quote) != q.hash:
			return computed, fmt.Sprintf("quote %s (of audit row %s): stored hash does not match its content", r.QuoteID, row.ID)
		}
		if err := audit.CheckQuoted(r, q.quote); err != nil {
			return computed, fmt.Sprintf("audit row %s (seq %d): %v", row.ID, row.Seq, err)
		}
	}
	return computed, ""
}
