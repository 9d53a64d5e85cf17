// Package audit holds what makes the audit trail verifiable: the
// canonical text and hash of a conversion receipt, and the seals that
// chain the audit log. It is pure computation; the store persists it.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// canonicalTime fixes the textual form of times in hashed content.
func canonicalTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// canonical builds a canonical text: one "name=value" line per field.
type canonical struct{ strings.Builder }

// canonicalText returns a builder sized for a receipt's or a quote's text,
// so that verify-audit, which writes one per row, never grows one.
func canonicalText() *canonical {
	b := &canonical{}
	b.Grow(640)
	return b
}

func (b *canonical) line(k, v string) {
	b.WriteString(k)
	b.WriteByte('=')
	b.WriteString(v)
	b.WriteByte('\n')
}

// Canonical is the exact text a receipt's Hash covers: one "name=value" line per field
// in a fixed order. Decimals are in their shortest exact form, so the
// text is the same whether a value comes from memory or from NUMERIC.
// Version 2 adds the pricing rule, version 3 the minor units and rate
// precision the figures were computed with, version 4 the API key of the
// client, version 5 the quote it executed, version 6 whether it was
// priced from a stale rate (with or without a quote); a receipt without
// them keeps the version it was written in, so older receipts still
// verify.
func Canonical(r fx.Receipt) string {
	b := canonicalText()
	line := b.line
	version := 6
	switch {
	case r.Rule == "":
		version = 1
	case r.RatePrecision == 0:
		version = 2
	case r.APIKeyID == "":
		version = 3
	case r.Stale == nil && r.QuoteID == "":
		version = 4
	case r.Stale == nil:
		version = 5
	}
	line("ces-receipt", "v"+strconv.Itoa(version))
	line("id", r.ID)
	line("created_at", canonicalTime(r.CreatedAt))
	line("amount", r.Amount.String())
	line("from_currency", r.From)
	line("to_currency", r.To)
	line("mid_rate", r.MidRate.String())
	line("margin", r.Margin.String())
	line("applied_rate", r.AppliedRate.String())
	line("converted_amount", r.ConvertedAmount.String())
	line("rounding", r.Rounding)
	if version >= 3 {
		line("minor_units", strconv.Itoa(r.MinorUnits))
		line("rate_precision", strconv.Itoa(r.RatePrecision))
	}
	line("provider", r.Provider)
	if version >= 2 {
		line("rule", r.Rule)
	}
	line("as_of", canonicalTime(r.AsOf))
	for i, l := range r.Legs {
		line("leg"+strconv.Itoa(i+1), strconv.FormatInt(l.ID, 10))
	}
	line("request_id", r.RequestID)
	line("idempotency_key", r.IdempotencyKey)
	line("request_sha256", r.RequestSHA256)
	line("client_address", r.ClientAddress)
	if version >= 4 {
		line("api_key_id", r.APIKeyID)
		if r.QuoteID != "" {
			line("quote_id", r.QuoteID)
		}
	}
	if version >= 6 {
		line("stale", strconv.FormatBool(*r.Stale))
	}
	return b.String()
}

// QuoteCanonical is the exact text a quote's hash covers, in the manner of
// Canonical: the client it was made for, its validity and every figure a
// conversion of it executes at. Version 2 adds whether it was priced from
// a stale rate; a quote recorded before keeps version 1.
func QuoteCanonical(q fx.LockedQuote) string {
	b := canonicalText()
	line := b.line
	if q.Stale == nil {
		line("ces-quote", "v1")
	} else {
		line("ces-quote", "v2")
	}
	line("id", q.ID)
	line("api_key_id", q.APIKeyID)
	line("created_at", canonicalTime(q.CreatedAt))
	line("expires_at", canonicalTime(q.ExpiresAt))
	line("amount", q.Amount.String())
	line("from_currency", q.From)
	line("to_currency", q.To)
	line("mid_rate", q.MidRate.String())
	line("margin", q.Margin.String())
	line("applied_rate", q.AppliedRate.String())
	line("converted_amount", q.ConvertedAmount.String())
	line("rounding", q.Rounding)
	line("minor_units", strconv.Itoa(q.MinorUnits))
	line("rate_precision", strconv.Itoa(q.RatePrecision))
	line("provider", q.Provider)
	line("rule", q.Rule)
	line("as_of", canonicalTime(q.AsOf))
	for i, l := range q.Legs {
		line("leg"+strconv.Itoa(i+1), strconv.FormatInt(l.ID, 10))
	}
	if q.Stale != nil {
		line("stale", strconv.FormatBool(*q.Stale))
	}
	return b.String()
}

// QuoteHash returns the hex SHA-256 of QuoteCanonical(q).
func QuoteHash(q fx.LockedQuote) string { return sha256Hex(QuoteCanonical(q)) }

// CheckQuoted reports how a receipt differs from the quote it says it
// executed: another client, after the quote expired, or at other figures.
func CheckQuoted(r fx.Receipt, q fx.LockedQuote) error {
	switch {
	case r.APIKeyID != q.APIKeyID:
		return fmt.Errorf("it executes quote %s, made for another API key", q.ID)
	case !r.CreatedAt.Before(q.ExpiresAt):
		return fmt.Errorf("it executes quote %s after it expired at %s", q.ID, canonicalTime(q.ExpiresAt))
	}
	same := func(a, b decimal.Decimal) bool { return a.Equal(b) }
	if !same(r.Amount, q.Amount) || r.From != q.From || r.To != q.To || !same(r.MidRate, q.MidRate) || !same(r.Margin, q.Margin) ||
		!same(r.AppliedRate, q.AppliedRate) || !same(r.ConvertedAmount, q.ConvertedAmount) || len(r.Legs) != len(q.Legs) {
		return fmt.Errorf("its figures are not those of quote %s", q.ID)
	}
	if r.Stale != nil && q.Stale != nil && *r.Stale != *q.Stale {
		// A conversion of a quote is priced at the quote's figures, from
		// the quote's legs: it is stale exactly when the quote was.
		return fmt.Errorf("it says stale=%t but quote %s says stale=%t", *r.Stale, q.ID, *q.Stale)
	}
	for i := range r.Legs {
		if r.Legs[i].ID != q.Legs[i].ID {
			return fmt.Errorf("its legs are not those of quote %s", q.ID)
		}
	}
	return nil
}

// ReceiptHash returns the hex SHA-256 of Canonical(r).
func ReceiptHash(r fx.Receipt) string { return sha256Hex(Canonical(r)) }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// GenesisSealHash is the previous hash of the first seal.
var GenesisSealHash = strings.Repeat("0", 64)

// SealedRow is what a seal covers of one audit row.
type SealedRow struct {
	Seq  int64
	Hash string
}

// RowsDigest hashes the rows of a seal in the order given (by seq).
func RowsDigest(rows []SealedRow) string {
	var d Digest
	for _, r := range rows {
		d.Add(r)
	}
	return d.Sum()
}

// Digest computes RowsDigest incrementally, for logs too long to hold.
type Digest struct {
	h           hash.Hash
	Count       int64
	First, Last int64
}

// Add appends one row.
func (d *Digest) Add(r SealedRow) {
	if d.h == nil {
		d.h = sha256.New()
		d.First = r.Seq
	}
	d.h.Write([]byte(strconv.FormatInt(r.Seq, 10) + ":" + r.Hash + "\n"))
	d.Count++
	d.Last = r.Seq
}

// Sum returns the digest of the rows added so far.
func (d *Digest) Sum() string {
	if d.h == nil {
		d.h = sha256.New()
	}
	return hex.EncodeToString(d.h.Sum(nil))
}

// Seal is one link of the audit chain.
type Seal struct {
	ID           int64
	CreatedAt    time.Time
	XminFrom     uint64
	XminTo       uint64
	RowCount     int64
	FirstSeq     int64
	LastSeq      int64
	RowsSHA256   string
	PrevSealHash string
	SealHash     string
	// KeyID and Signature are empty on seals made before seals were
	// signed; the signature is not part of SealHash, it is over it.
	KeyID     string
	Signature string
}

// ComputeHash chains the seal to its predecessor.
func (s Seal) ComputeHash() string {
	return sha256Hex(strings.Join([]string{
		"ces-seal", "v1",
		s.PrevSealHash,
		canonicalTime(s.CreatedAt),
		strconv.FormatUint(s.XminFrom, 10), strconv.FormatUint(s.XminTo, 10),
		strconv.FormatInt(s.RowCount, 10), strconv.FormatInt(s.FirstSeq, 10), strconv.FormatInt(s.LastSeq, 10),
		s.RowsSHA256,
	}, "\n"))
}
