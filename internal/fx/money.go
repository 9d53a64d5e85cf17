package fx

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Rounding names the rounding rule of converted amounts, as stored on receipts.
const Rounding = "half_even"

// MaxIntegerDigits bounds the integer part of an amount a client may send.
const MaxIntegerDigits = 18

// ParseAmount parses a client amount exactly from its decimal text. It
// refuses exponent notation, signs, NaN and infinities, zero, more integer
// digits than MaxIntegerDigits, and more decimals than the currency's minor units.
func ParseAmount(text string, c Currency) (decimal.Decimal, error) {
	if text == "" {
		return decimal.Decimal{}, fmt.Errorf("%w: empty", ErrInvalidAmount)
	}
	intPart, frac, hasDot := strings.Cut(text, ".")
	if intPart == "" || (hasDot && frac == "") {
		return decimal.Decimal{}, fmt.Errorf("%w: %q is not a plain decimal number", ErrInvalidAmount, text)
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				if part[i] == '-' {
					return decimal.Decimal{}, fmt.Errorf("%w: %q must be positive", ErrInvalidAmount, text)
				}
				return decimal.Decimal{}, fmt.Errorf("%w: %q is not a plain decimal number (digits and one dot only)", ErrInvalidAmount, text)
			}
		}
	}
	if len(strings.TrimLeft(intPart, "0")) > MaxIntegerDigits {
		return decimal.Decimal{}, fmt.Errorf("%w: %q has more than %d integer digits", ErrInvalidAmount, text, MaxIntegerDigits)
	}
	if !c.HasMinorUnits() {
		return decimal.Decimal{}, fmt.Errorf("%w: %s has no minor unit in ISO 4217 and cannot be converted", ErrInvalidCurrency, c.Code)
	}
	if len(strings.TrimRight(frac, "0")) > c.MinorUnits {
		return decimal.Decimal{}, fmt.Errorf("%w: %q has more decimals than %s allows (%d)", ErrInvalidAmount, text, c.Code, c.MinorUnits)
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %q: %v", ErrInvalidAmount, text, err)
	}
	if !d.IsPositive() {
		return decimal.Decimal{}, fmt.Errorf("%w: %q must be greater than zero", ErrInvalidAmount, text)
	}
	return d, nil
}

// FormatAmount writes d with exactly the minor units of the currency code
// ("500.00" USD, "1530" JPY); codes without minor units keep no decimals.
func FormatAmount(code string, d decimal.Decimal) string {
	c, _ := LookupCurrency(code)
	return d.StringFixed(int32(max(c.MinorUnits, 0)))
}

// Conversion is the arithmetic of one conversion, before it is recorded.
type Conversion struct {
	Amount          decimal.Decimal
	MidRate         decimal.Decimal
	Margin          decimal.Decimal
	AppliedRate     decimal.Decimal
	ConvertedAmount decimal.Decimal
}

// Convert applies margin to mid and converts amount into to:
// applied = mid × (1 − margin), exactly; converted = amount × applied,
// rounded half-even to the minor units of to.
func Convert(amount, mid, margin decimal.Decimal, to Currency) (Conversion, error) {
	if !to.HasMinorUnits() {
		return Conversion{}, fmt.Errorf("%w: %s has no minor unit in ISO 4217 and cannot be converted", ErrInvalidCurrency, to.Code)
	}
	applied := mid.Mul(decimal.NewFromInt(1).Sub(margin))
	return Conversion{
		Amount:          amount,
		MidRate:         mid,
		Margin:          margin,
		AppliedRate:     applied,
		ConvertedAmount: amount.Mul(applied).RoundBank(int32(to.MinorUnits)),
	}, nil
}

// CheckPayout refuses a conversion whose exact result, amount × applied,
// is below one minor unit of to: it would round to nothing, or to a unit
// it is not worth. The error names the smallest amount of from that
// converts.
func CheckPayout(amount, applied decimal.Decimal, from, to Currency) error {
	unit := decimal.New(1, -int32(to.MinorUnits))
	if amount.Mul(applied).GreaterThanOrEqual(unit) {
		return nil
	}
	return fmt.Errorf("%w: %s %s converts to %s %s, less than one minor unit (%s %s); the smallest amount that converts is %s %s",
		ErrAmountTooSmall, amount, from.Code, amount.Mul(applied).Truncate(int32(to.MinorUnits)+4), to.Code, unit, to.Code,
		MinAmount(applied, from, to).StringFixed(int32(from.MinorUnits)), from.Code)
}

// MinAmount is the smallest amount of from, in its minor units, that
// converts at applied to at least one minor unit of to.
func MinAmount(applied decimal.Decimal, from, to Currency) decimal.Decimal {
	unit := decimal.New(1, -int32(to.MinorUnits))
	step := decimal.New(1, -int32(from.MinorUnits))
	m := unit.DivRound(applied, 40).RoundCeil(int32(from.MinorUnits))
	for m.Mul(applied).LessThan(unit) { // DivRound may have rounded down
		m = m.Add(step)
	}
	for m.GreaterThan(step) && m.Sub(step).Mul(applied).GreaterThanOrEqual(unit) { // or up
		m = m.Sub(step)
	}
	return m
}
