package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/fx"
)

// Expected figures computed with Python's decimal module (20 significant
// digits, ROUND_HALF_EVEN for the cross rate; exact products; amounts
// quantized half-even to the currency's minor units). The rates are the
// ECB's reference rates of 2017-03-03.
func TestCheckArithmetic(t *testing.T) {
	asOf := time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC)
	eurUSD := fx.Rate{ID: 1, Provider: "ecb", Base: "EUR", Quote: "USD", Value: decimal.RequireFromString("1.0565"), AsOf: asOf}
	eurGBP := fx.Rate{ID: 2, Provider: "ecb", Base: "EUR", Quote: "GBP", Value: decimal.RequireFromString("0.86355"), AsOf: asOf}
	d := decimal.RequireFromString
	direct := fx.Receipt{
		Pricing: fx.Pricing{
			From: "EUR", To: "USD", Amount: d("100.00"), MidRate: d("1.0565"), Margin: d("0.005"),
			AppliedRate: d("1.0512175"), ConvertedAmount: d("105.12"), Rounding: fx.Rounding, Rule: "direct",
			Legs: []fx.Rate{eurUSD},
		},
	}
	cross := fx.Receipt{
		Pricing: fx.Pricing{
			From: "GBP", To: "USD", Amount: d("250.00"), MidRate: d("1.2234381332870129118"), Margin: d("0.005"),
			AppliedRate: d("1.217320942620577847241"), ConvertedAmount: d("304.33"), Rounding: fx.Rounding, Rule: "cross",
			Legs: []fx.Rate{eurGBP, eurUSD},
		},
	}
	with := func(r fx.Receipt, edit func(*fx.Receipt)) fx.Receipt {
		r.Legs = append([]fx.Rate(nil), r.Legs...)
		edit(&r)
		return r
	}
	for _, tc := range []struct {
		name    string
		r       fx.Receipt
		problem string // "" when the receipt's figures are right
	}{
		{"a direct rate", direct, ""},
		{"a receipt from before the source policy (no rule)", with(direct, func(r *fx.Receipt) { r.Rule = "" }), ""},
		{"a cross rate through EUR", cross, ""},
		{"a forged mid rate", with(direct, func(r *fx.Receipt) { r.MidRate = d("1.0566") }), "mid_rate is 1.0566 but its legs give 1.0565"},
		{"a leg that is not the one priced from", with(direct, func(r *fx.Receipt) { r.Legs[0].Value = d("1.0600") }), "mid_rate is 1.0565 but its legs give 1.06"},
		{"a forged applied rate", with(direct, func(r *fx.Receipt) { r.AppliedRate = d("1.0565") }), "applied_rate is 1.0565 but"},
		{"a converted amount a cent high", with(cross, func(r *fx.Receipt) { r.ConvertedAmount = d("304.34") }), "converted_amount is 304.34 but"},
		{"half-up instead of half-even", with(direct, func(r *fx.Receipt) {
			// 10 × 1.0565 = 10.565, a tie: half-even gives 10.56.
			r.Amount, r.Margin, r.AppliedRate, r.ConvertedAmount = d("10"), d("0"), d("1.0565"), d("10.57")
		}), "converted_amount is 10.57 but"},
		{"the tie rounded half-even", with(direct, func(r *fx.Receipt) {
			r.Amount, r.Margin, r.AppliedRate, r.ConvertedAmount = d("10"), d("0"), d("1.0565"), d("10.56")
		}), ""},
		{"an unknown rounding rule", with(direct, func(r *fx.Receipt) { r.Rounding = "half_up" }), `rounding "half_up"`},
		{"legs that do not chain from→to", with(cross, func(r *fx.Receipt) { r.Legs = []fx.Rate{eurUSD, eurGBP} }), "its legs do not price GBP/USD"},
		{"no legs for a pair", with(direct, func(r *fx.Receipt) { r.Legs = nil }), "its legs do not price EUR/USD"},
		{"minor units recorded on the receipt", with(direct, func(r *fx.Receipt) { r.MinorUnits, r.RatePrecision = 2, 20 }), ""},
		{"the receipt's minor units win over today's table", with(direct, func(r *fx.Receipt) {
			// Had USD three decimals when it was made: 105.1217500 → 105.122.
			r.MinorUnits, r.RatePrecision, r.ConvertedAmount = 3, 20, d("105.122")
		}), ""},
		{"figures rounded other than the receipt says", with(direct, func(r *fx.Receipt) { r.MinorUnits, r.RatePrecision = 0, 20 }),
			"converted_amount is 105.12 but 100.00 × 1.0512175 rounded half_even to 0 places gives 105"},
		{"a derived-rate precision CES never used", with(cross, func(r *fx.Receipt) { r.MinorUnits, r.RatePrecision = 2, 19 }),
			"rate_precision is 19 but CES derives rates to 20 significant digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := audit.CheckArithmetic(tc.r)
			switch {
			case tc.problem == "" && err != nil:
				t.Fatalf("a correct receipt was refused: %v", err)
			case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
				t.Fatalf("err = %v, want one saying %q", err, tc.problem)
			}
		})
	}
}
