package fx

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/shopspring/decimal"
)

// Pricing is what a conversion is priced at: the amount asked, the rates
// and margin applied, the result, and the stored rows the rate came from.
// A receipt records it; a quote locks it until it expires.
type Pricing struct {
	Amount          decimal.Decimal
	From            string
	To              string
	MidRate         decimal.Decimal
	Margin          decimal.Decimal
	AppliedRate     decimal.Decimal
	ConvertedAmount decimal.Decimal
	Rounding        string
	// MinorUnits are the target currency's decimals the converted amount
	// is rounded to, and RatePrecision the significant digits a derived
	// (cross) rate is divided to, as they were when it was priced.
	// RatePrecision 0 marks a receipt from before they were recorded.
	MinorUnits    int
	RatePrecision int
	Provider      string
	// Rule is the source-policy rule that chose the legs; receipts made
	// before there was a policy have none (and hash as v1).
	Rule string
	AsOf time.Time
	Legs []Rate
	// Stale says a leg was older than its provider's staleness bound at
	// the instant it was priced (a conversion of a quote carries the
	// quote's). It is nil on receipts and quotes recorded before CES
	// recorded it, which keep the hash version they were written in.
	Stale *bool
}

// Flag returns a pointer to b, for Pricing.Stale.
func Flag(b bool) *bool { return &b }

// IsStale reports whether p was priced from a stale rate; false when that
// was not recorded.
func (p Pricing) IsStale() bool { return p.Stale != nil && *p.Stale }

// Receipt is the record of one conversion: what was asked, the rate rows
// it was priced from, every value used, and a hash over all of it.
type Receipt struct {
	ID        string
	CreatedAt time.Time
	Pricing
	RequestID string
	// APIKeyID is the client key the conversion was made with; its
	// IdempotencyKey is scoped to it. Empty on receipts from before keys.
	APIKeyID string
	// QuoteID is the quote the conversion executed, when it had one.
	QuoteID        string
	IdempotencyKey string
	RequestSHA256  string
	ClientAddress  string
	Hash           string
}

// LockedQuote is a price offered to one client until ExpiresAt: a
// conversion naming it executes at exactly its Pricing, once.
type LockedQuote struct {
	ID        string
	APIKeyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	Pricing
}

// QuoteRequestHash identifies a conversion of a quote for idempotency.
func QuoteRequestHash(quoteID string) string {
	return sha256Hex("quote_id=" + quoteID + "\n")
}

// RequestHash identifies a conversion request for idempotency: the same
// amount (as a number, so "500" and "500.00" agree), from and to.
func RequestHash(amount decimal.Decimal, from, to string) string {
	return sha256Hex("amount=" + amount.String() + "\nfrom=" + from + "\nto=" + to + "\n")
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
