package fx

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Receipt is the record of one conversion: what was asked, the rate rows
// it was priced from, every value used, and a hash over all of it.
type Receipt struct {
	ID              string
	CreatedAt       time.Time
	Amount          decimal.Decimal
	From            string
	To              string
	MidRate         decimal.Decimal
	Margin          decimal.Decimal
	AppliedRate     decimal.Decimal
	ConvertedAmount decimal.Decimal
	Rounding        string
	Provider        string
	// Rule is the source-policy rule that chose the legs; receipts made
	// before there was a policy have none (and hash as v1).
	Rule           string
	AsOf           time.Time
	Legs           []Rate
	RequestID      string
	IdempotencyKey string
	RequestSHA256  string
	ClientAddress  string
	Hash           string
}

// canonicalTime fixes the textual form of times in hashed content.
func canonicalTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Canonical is the exact text Hash covers: one "name=value" line per field
// in a fixed order. Decimals are in their shortest exact form, so the
// text is the same whether a value comes from memory or from NUMERIC.
// Version 2 adds the pricing rule; a receipt without one stays version 1,
// so receipts written before the rule existed still verify.
func (r Receipt) Canonical() string {
	var b strings.Builder
	line := func(k, v string) { b.WriteString(k + "=" + v + "\n") }
	if r.Rule == "" {
		line("ces-receipt", "v1")
	} else {
		line("ces-receipt", "v2")
	}
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
	line("provider", r.Provider)
	if r.Rule != "" {
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
	return b.String()
}

// ComputeHash returns the hex SHA-256 of Canonical.
func (r Receipt) ComputeHash() string { return sha256Hex(r.Canonical()) }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RequestHash identifies a conversion request for idempotency: the same
// amount (as a number, so "500" and "500.00" agree), from and to.
func RequestHash(amount decimal.Decimal, from, to string) string {
	return sha256Hex("amount=" + amount.String() + "\nfrom=" + from + "\nto=" + to + "\n")
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
