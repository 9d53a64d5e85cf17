package fx

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Rate is one stored observation: 1 unit of Base buys Value units of Quote,
// as published by Provider at AsOf.
type Rate struct {
	ID        int64
	Provider  string
	Base      string
	Quote     string
	Value     decimal.Decimal
	AsOf      time.Time
	FetchedAt time.Time
}

// QuotedRate is one quote inside a provider's payload, before storage.
type QuotedRate struct {
	Quote string
	Value decimal.Decimal
}

// RateSet is everything one provider payload says: the quotes against Base
// published at AsOf. Skipped lists the codes the payload carried that are
// not ISO 4217 currencies (crypto, offshore or local codes).
type RateSet struct {
	Provider    string
	Base        string
	AsOf        time.Time
	Rates       []QuotedRate
	Skipped     []string
	PayloadHash string
}

// maxRate bounds what CES accepts as a plausible exchange rate. The largest
// real quotes (VES, IRR, LBP against gold-backed or strong bases) stay well
// below a billion; anything larger is a broken payload, not a price.
var maxRate = decimal.New(1, 12)

// ValidateRate checks that a provider-supplied value is a usable rate.
func ValidateRate(v decimal.Decimal) error {
	if !v.IsPositive() {
		return fmt.Errorf("%w: %s is not positive", ErrInvalidRate, v)
	}
	if v.GreaterThan(maxRate) {
		return fmt.Errorf("%w: %s is implausibly large", ErrInvalidRate, v)
	}
	return nil
}

// DerivedSignificantDigits is the precision of every rate CES computes
// rather than stores: inverses and cross rates are rounded half-even to
// this many significant digits. Direct rates keep the provider's digits.
const DerivedSignificantDigits = 20

// DivideRates returns a/b rounded half-even to DerivedSignificantDigits
// significant digits. It is the single rounding rule for derived rates.
// Both operands must be positive.
func DivideRates(a, b decimal.Decimal) decimal.Decimal {
	// Find the magnitude of the quotient from a generous approximation,
	// then compute the exact truncated quotient and its remainder at the
	// wanted scale, so the final rounding sees every digit (no double rounding).
	approx := a.DivRound(b, 40)
	msd := int32(len(approx.Coefficient().String())) + approx.Exponent() - 1
	places := DerivedSignificantDigits - 1 - msd
	q, r := a.QuoRem(b, places)
	// q has `places` decimals and 0 <= r < b*10^-places. Compare 2r with one ulp of b.
	ulpB := b.Shift(-places)
	switch r.Mul(decimal.NewFromInt(2)).Cmp(ulpB) {
	case 1:
		q = q.Add(decimal.New(1, -places))
	case 0:
		// A tie: round to the even last digit.
		if q.Shift(places).BigInt().Bit(0) == 1 {
			q = q.Add(decimal.New(1, -places))
		}
	}
	return q
}

// Quote is the answer to "how many To for one From", with the stored rows it
// was computed from. AsOf and FetchedAt are those of the oldest leg, so a
// cross rate never claims to be fresher than its stalest input.
type Quote struct {
	From      string
	To        string
	Value     decimal.Decimal
	Provider  string
	AsOf      time.Time
	FetchedAt time.Time
	Legs      []Rate
	// Rule names the source-policy rule that chose the legs (direct,
	// inverse, cross, cross_provider); Via is the common currency of a cross.
	Rule string
	Via  string
}

// Exact formats d with every digit it was given, trailing zeros included
// ("0.80750" stays "0.80750"), so a stored or published rate reads exactly
// as the provider wrote it. decimal's String trims trailing zeros.
func Exact(d decimal.Decimal) string {
	if e := d.Exponent(); e < 0 {
		return d.StringFixed(-e)
	}
	return d.String()
}
