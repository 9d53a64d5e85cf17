package audit

import (
	"fmt"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/policy"
)

// CheckArithmetic re-derives what a receipt states from what it was
// priced from: the mid rate from its legs (their stored rows, in the
// receipt's order) and rule, the applied rate from the margin, and the
// converted amount from the rounding rule and the minor units of the
// target currency. It names the first value that differs, so a row whose
// self-hash was recomputed after forging a figure does not pass.
func CheckArithmetic(r fx.Receipt) error {
	mid, err := policy.Recompute(r.From, r.To, r.Rule, r.Legs)
	if err != nil {
		return fmt.Errorf("its legs do not price %s/%s: %w", r.From, r.To, err)
	}
	return CheckFigures(r, mid)
}

// CheckFigures is CheckArithmetic given mid, what policy.Recompute gives
// for the receipt's legs and rule: verify-audit, which checks thousands
// of receipts priced from the same legs, recomputes it once for them.
func CheckFigures(r fx.Receipt, mid decimal.Decimal) error {
	if !mid.Equal(r.MidRate) {
		return fmt.Errorf("mid_rate is %s but its legs give %s", fx.Exact(r.MidRate), fx.Exact(mid))
	}
	if r.Rounding != fx.Rounding {
		return fmt.Errorf("rounding %q is not one CES uses (%s)", r.Rounding, fx.Rounding)
	}
	to, ok := fx.LookupCurrency(r.To)
	if !ok {
		return fmt.Errorf("to_currency %s is not an ISO 4217 currency", r.To)
	}
	if r.RatePrecision != 0 {
		// The receipt says how it was computed: trust its own record of
		// the minor units over today's table (ISO 4217 changes), and
		// refuse a derived-rate precision CES never used.
		if r.RatePrecision != fx.DerivedSignificantDigits {
			return fmt.Errorf("rate_precision is %d but CES derives rates to %d significant digits", r.RatePrecision, fx.DerivedSignificantDigits)
		}
		to.MinorUnits = r.MinorUnits
	}
	conv, err := fx.Convert(r.Amount, mid, r.Margin, to)
	if err != nil {
		return err
	}
	if !conv.AppliedRate.Equal(r.AppliedRate) {
		return fmt.Errorf("applied_rate is %s but mid_rate %s less margin %s gives %s",
			fx.Exact(r.AppliedRate), fx.Exact(mid), fx.Exact(r.Margin), fx.Exact(conv.AppliedRate))
	}
	if !conv.ConvertedAmount.Equal(r.ConvertedAmount) {
		return fmt.Errorf("converted_amount is %s but %s × %s rounded %s to %d places gives %s",
			fx.Exact(r.ConvertedAmount), fx.Exact(r.Amount), fx.Exact(conv.AppliedRate), fx.Rounding, to.MinorUnits, fx.Exact(conv.ConvertedAmount))
	}
	return nil
}
