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

// The canonical texts are built by appending to one byte slice, so that
// verify-audit, which hashes one per row, allocates nothing for them.

func appendKey(b []byte, k string) []byte { return append(append(b, k...), '=') }

func appendLine(b []byte, k, v string) []byte {
	return append(append(appendKey(b, k), v...), '\n')
}

func appendDecimalLine(b []byte, k string, d decimal.Decimal) []byte {
	return append(appendDecimal(appendKey(b, k), d), '\n')
}

func appendTimeLine(b []byte, k string, t time.Time) []byte {
	return append(t.UTC().AppendFormat(appendKey(b, k), time.RFC3339Nano), '\n')
}

func appendIntLine(b []byte, k string, i int64) []byte {
	return append(strconv.AppendInt(appendKey(b, k), i, 10), '\n')
}

func appendLegLines(b []byte, legs []fx.Rate) []byte {
	for i, l := range legs {
		b = strconv.AppendInt(append(b, "leg"...), int64(i+1), 10)
		b = append(strconv.AppendInt(append(b, '='), l.ID, 10), '\n')
	}
	return b
}

// appendDecimal appends d.String(): the shortest exact form, no exponent
// and no trailing zeros after the point. Coefficients of up to 18 digits
// (every amount and rate CES stores) are written without the big.Int
// text and the string concatenations of decimal.String; longer ones take
// that path.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	if d.NumDigits() > 18 {
		return append(b, d.String()...)
	}
	c, exp := d.CoefficientInt64(), int(d.Exponent())
	if c == 0 {
		return append(b, '0')
	}
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], c, 10)
	if exp >= 0 {
		b = append(b, digits...)
		for range exp {
			b = append(b, '0')
		}
		return b
	}
	point := len(digits) + exp // digits before the point
	frac := digits[max(point, 0):]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if point > 0 {
		b = append(b, digits[:point]...)
	} else {
		b = append(b, '0')
	}
	if len(frac) == 0 {
		return b
	}
	b = append(b, '.')
	for range -point {
		b = append(b, '0')
	}
	return append(b, frac...)
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
func Canonical(r fx.Receipt) string { return string(appendCanonical(make([]byte, 0, 640), r)) }

func appendCanonical(b []byte, r fx.Receipt) []byte {
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
	b = append(strconv.AppendInt(append(b, "ces-receipt=v"...), int64(version), 10), '\n')
	b = appendLine(b, "id", r.ID)
	b = appendTimeLine(b, "created_at", r.CreatedAt)
	b = appendDecimalLine(b, "amount", r.Amount)
	b = appendLine(b, "from_currency", r.From)
	b = appendLine(b, "to_currency", r.To)
	b = appendDecimalLine(b, "mid_rate", r.MidRate)
	b = appendDecimalLine(b, "margin", r.Margin)
	b = appendDecimalLine(b, "applied_rate", r.AppliedRate)
	b = appendDecimalLine(b, "converted_amount", r.ConvertedAmount)
	b = appendLine(b, "rounding", r.Rounding)
	if version >= 3 {
		b = appendIntLine(b, "minor_units", int64(r.MinorUnits))
		b = appendIntLine(b, "rate_precision", int64(r.RatePrecision))
	}
	b = appendLine(b, "provider", r.Provider)
	if version >= 2 {
		b = appendLine(b, "rule", r.Rule)
	}
	b = appendTimeLine(b, "as_of", r.AsOf)
	b = appendLegLines(b, r.Legs)
	b = appendLine(b, "request_id", r.RequestID)
	b = appendLine(b, "idempotency_key", r.IdempotencyKey)
	b = appendLine(b, "request_sha256", r.RequestSHA256)
	b = appendLine(b, "client_address", r.ClientAddress)
	if version >= 4 {
		b = appendLine(b, "api_key_id", r.APIKeyID)
		if r.QuoteID != "" {
			b = appendLine(b, "quote_id", r.QuoteID)
		}
	}
	if version >= 6 {
		b = appendLine(b, "stale", strconv.FormatBool(*r.Stale))
	}
	return b
}

// QuoteCanonical is the exact text a quote's hash covers, in the manner of
// Canonical: the client it was made for, its validity and every figure a
// conversion of it executes at. Version 2 adds whether it was priced from
// a stale rate; a quote recorded before keeps version 1.
func QuoteCanonical(q fx.LockedQuote) string {
	return string(appendQuoteCanonical(make([]byte, 0, 640), q))
}

func appendQuoteCanonical(b []byte, q fx.LockedQuote) []byte {
	if q.Stale == nil {
		b = appendLine(b, "ces-quote", "v1")
	} else {
		b = appendLine(b, "ces-quote", "v2")
	}
	b = appendLine(b, "id", q.ID)
	b = appendLine(b, "api_key_id", q.APIKeyID)
	b = appendTimeLine(b, "created_at", q.CreatedAt)
	b = appendTimeLine(b, "expires_at", q.ExpiresAt)
	b = appendDecimalLine(b, "amount", q.Amount)
	b = appendLine(b, "from_currency", q.From)
	b = appendLine(b, "to_currency", q.To)
	b = appendDecimalLine(b, "mid_rate", q.MidRate)
	b = appendDecimalLine(b, "margin", q.Margin)
	b = appendDecimalLine(b, "applied_rate", q.AppliedRate)
	b = appendDecimalLine(b, "converted_amount", q.ConvertedAmount)
	b = appendLine(b, "rounding", q.Rounding)
	b = appendIntLine(b, "minor_units", int64(q.MinorUnits))
	b = appendIntLine(b, "rate_precision", int64(q.RatePrecision))
	b = appendLine(b, "provider", q.Provider)
	b = appendLine(b, "rule", q.Rule)
	b = appendTimeLine(b, "as_of", q.AsOf)
	b = appendLegLines(b, q.Legs)
	if q.Stale != nil {
		b = appendLine(b, "stale", strconv.FormatBool(*q.Stale))
	}
	return b
}

// QuoteHash returns the hex SHA-256 of QuoteCanonical(q).
func QuoteHash(q fx.LockedQuote) string {
	var buf [1024]byte // on the stack: a quote's text is about 600 bytes
	return hashHex(appendQuoteCanonical(buf[:0], q))
}

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
func ReceiptHash(r fx.Receipt) string {
	var buf [1024]byte // on the stack: a receipt's text is about 600 bytes
	return hashHex(appendCanonical(buf[:0], r))
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sha256Hex(s string) string { return hashHex([]byte(s)) }

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
	line        []byte // reused for each row's line
	Count       int64
	First, Last int64
}

// Add appends one row.
func (d *Digest) Add(r SealedRow) {
	if d.h == nil {
		d.h = sha256.New()
		d.First = r.Seq
	}
	d.line = append(append(append(strconv.AppendInt(d.line[:0], r.Seq, 10), ':'), r.Hash...), '\n')
	d.h.Write(d.line)
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
