package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"ces/internal/audit"
	"ces/internal/fx"
	"ces/internal/policy"
)

// verifyBatch is how many audit rows verify-audit fetches at a time.
const verifyBatch = 5000

// rowVerifier checks audit rows for one verify-audit run. Rate rows never
// change, so the legs it has read serve every later batch and window: a
// log priced from a few thousand rate rows reads each once.
type rowVerifier struct {
	s    *Audit
	mu   sync.RWMutex
	legs map[int64]fx.Rate
}

func (s *Audit) newRowVerifier() *rowVerifier {
	return &rowVerifier{s: s, legs: map[int64]fx.Rate{}}
}

// auditColumns are the columns verify-audit reads, in fetchAuditRows's order.
const auditColumns = `seq, id, created_at, amount, from_currency, to_currency, mid_rate, margin,
applied_rate, converted_amount, rounding, provider, as_of, leg1_rate_id, leg2_rate_id, request_id,
idempotency_key, request_sha256, client_address, hash, pricing_rule, minor_units, rate_precision, api_key_id,
quote_id, stale`

// window is the audit rows of the transactions in [from, to): one seal's,
// or the unsealed ones after the newest seal.
type window struct{ from, to uint64 }

// windowResult is one window verified: the digest of its rows in seq
// order, or the first row that does not match, or what stopped the check.
type windowResult struct {
	digest  *audit.Digest
	problem string
	err     error
}

// VerifyConns is how many windows verify-audit checks at once, each on
// its own connection: one more than the cores, so that a worker waiting
// on PostgreSQL leaves no core idle, and PostgreSQL reads and sends rows
// on as many backends. A pool for verify-audit needs one more, for the
// chain itself.
func VerifyConns() int { return min(runtime.GOMAXPROCS(0)+1, 8) }

// verifyWindows checks windows on VerifyConns connections at once
// and returns one channel per window, each receiving its result: the
// caller reads them in chain order and stops at the first problem, which
// is then the first in the chain, whichever worker found it first.
// Cancelling ctx stops the workers. done is called with the rows checked
// after each batch, from one goroutine at a time.
func (v *rowVerifier) verifyWindows(ctx context.Context, windows []window, done func(rows int64)) []chan windowResult {
	out := make([]chan windowResult, len(windows))
	for i := range out {
		out[i] = make(chan windowResult, 1)
	}
	var mu sync.Mutex
	var total int64
	batchDone := func(n int64) {
		mu.Lock()
		defer mu.Unlock()
		total += n
		done(total)
	}
	slots := make(chan struct{}, VerifyConns())
	go func() {
		for i, w := range windows {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for _, c := range out[i:] {
					c <- windowResult{err: ctx.Err()}
				}
				return
			}
			go func() {
				defer func() { <-slots }()
				d, problem, err := v.verifyWindow(ctx, w, batchDone)
				out[i] <- windowResult{digest: d, problem: problem, err: err}
			}()
		}
	}()
	return out
}

// verifyWindow recomputes the hash and the arithmetic of every audit row
// of w and returns their digest, or names the first row (by seq) whose
// stored hash or figures do not match. It reads the window through one
// cursor in a read-only transaction on one connection: PostgreSQL finds
// and sorts the window's rows once, and the legs and quotes of each batch
// are read on the same connection between fetches.
func (v *rowVerifier) verifyWindow(ctx context.Context, w window, done func(rows int64)) (*audit.Digest, string, error) {
	conn, err := v.s.db.Conn(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("store: verify rows: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, "", fmt.Errorf("store: verify rows: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DECLARE verify_rows NO SCROLL CURSOR FOR SELECT `+auditColumns+` FROM conversion_audits
WHERE xact_id >= ?::xid8 AND xact_id < ?::xid8 ORDER BY seq`, strconv.FormatUint(w.from, 10), strconv.FormatUint(w.to, 10)); err != nil {
		return nil, "", fmt.Errorf("store: verify rows: %w", err)
	}
	out := &audit.Digest{}
	rows := make([]auditRow, 0, verifyBatch)
	mids := map[midKey]midOf{}
	for {
		rows, err = fetchAuditRows(ctx, conn, rows[:0])
		if err != nil {
			return nil, "", err
		}
		if len(rows) == 0 {
			return out, "", nil
		}
		if err := v.loadLegs(ctx, tx, rows); err != nil {
			return nil, "", err
		}
		quotes, err := quotesOf(ctx, tx, rows)
		if err != nil {
			return nil, "", err
		}
		for _, row := range rows {
			hash, problem := v.checkRow(row, quotes, mids)
			if problem != "" {
				return out, problem, nil
			}
			out.Add(audit.SealedRow{Seq: row.Seq, Hash: hash})
		}
		done(int64(len(rows)))
		if len(rows) < verifyBatch {
			return out, "", nil
		}
	}
}

// fetchAuditRows appends the next verifyBatch rows of the cursor that
// conn's open transaction declared to rows. It scans with pgx itself,
// past database/sql, whose boxing of every value into an interface cost
// a third of verify-audit's client CPU, and takes NUMERIC as text: the
// exact digits PostgreSQL stores, with no binary-to-text conversion.
func fetchAuditRows(ctx context.Context, conn bun.Conn, rows []auditRow) ([]auditRow, error) {
	err := conn.Raw(func(dc any) error {
		cur, err := dc.(*stdlib.Conn).Conn().Query(ctx, "FETCH "+strconv.Itoa(verifyBatch)+" FROM verify_rows",
			pgx.QueryResultFormatsByOID{pgtype.NumericOID: pgx.TextFormatCode})
		if err != nil {
			return err
		}
		defer cur.Close()
		for cur.Next() {
			var a auditRow
			if err := cur.Scan(&a.Seq, &a.ID, &a.CreatedAt, &a.Amount, &a.FromCurrency, &a.ToCurrency, &a.MidRate, &a.Margin,
				&a.AppliedRate, &a.ConvertedAmount, &a.Rounding, &a.Provider, &a.AsOf, &a.Leg1RateID, &a.Leg2RateID, &a.RequestID,
				&a.IdempotencyKey, &a.RequestSHA256, &a.ClientAddress, &a.Hash, &a.PricingRule, &a.MinorUnits, &a.RatePrecision,
				&a.APIKeyID, &a.QuoteID, &a.Stale); err != nil {
				return err
			}
			rows = append(rows, a)
		}
		return cur.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: verify rows: %w", err)
	}
	return rows, nil
}

// loadLegs reads, through db, the rate rows of rows that no batch read
// before.
func (v *rowVerifier) loadLegs(ctx context.Context, db bun.IDB, rows []auditRow) error {
	var missing []int64
	seen := map[int64]bool{}
	v.mu.RLock()
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
	v.mu.RUnlock()
	if len(missing) == 0 {
		return nil
	}
	legs, err := ratesByID(ctx, db, missing)
	if err != nil {
		return fmt.Errorf("store: verify rows: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, r := range legs {
		v.legs[id] = r
	}
	return nil
}

// midKey is what a receipt's mid rate is recomputed from: the rate rows
// of its legs (an audit row has at most two), which never change, and its
// pair and rule.
type midKey struct {
	from, to, rule string
	leg1, leg2     int64
}

// midOf is policy.Recompute's answer for one midKey.
type midOf struct {
	mid decimal.Decimal
	err error
}

// checkRow is one row's verification: its hash, its figures against its
// legs, and, when it executed a quote, the quote's hash and figures. mids
// holds the mid rates the window's rows' legs gave so far.
func (v *rowVerifier) checkRow(row auditRow, quotes map[string]storedQuote, mids map[midKey]midOf) (string, string) {
	r := row.receipt()
	computed := audit.ReceiptHash(r)
	if computed != row.Hash {
		return computed, fmt.Sprintf("audit row %s (seq %d): stored hash does not match its content", row.ID, row.Seq)
	}
	v.mu.RLock()
	for i, l := range r.Legs {
		r.Legs[i] = v.legs[l.ID] // loadLegs filled it before the batch
	}
	v.mu.RUnlock()
	key := midKey{from: r.From, to: r.To, rule: r.Rule}
	if len(r.Legs) > 0 {
		key.leg1 = r.Legs[0].ID
	}
	if len(r.Legs) > 1 {
		key.leg2 = r.Legs[1].ID
	}
	m, ok := mids[key]
	if !ok {
		m.mid, m.err = policy.Recompute(r.From, r.To, r.Rule, r.Legs)
		mids[key] = m
	}
	if m.err != nil {
		return computed, fmt.Sprintf("audit row %s (seq %d): its legs do not price %s/%s: %v", row.ID, row.Seq, r.From, r.To, m.err)
	}
	if err := audit.CheckFigures(r, m.mid); err != nil {
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
