package httpapi

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// TestPricingFigures pins the form of the figures in receipts and quotes:
// rates and margin in their shortest exact decimal form (no trailing
// zeros, never an exponent), amounts in their currency's minor units.
func TestPricingFigures(t *testing.T) {
	d := decimal.RequireFromString
	tests := []struct {
		name                       string
		mid, margin, applied       decimal.Decimal
		wantMid, wantMargin, wantA string
	}{
		{"trailing zeros dropped, margin 0", d("139.50"), d("0.000"), d("139.5000"), "139.5", "0", "139.5"},
		{"a provider's exact digits", d("0.997656"), d("0.005"), d("0.99266772"), "0.997656", "0.005", "0.99266772"},
		{"an integer rate", d("15000.00"), d("0"), d("15000"), "15000", "0", "15000"},
		{"a positive exponent", decimal.New(15, 3), d("0.0100"), decimal.New(14850, 0), "15000", "0.01", "14850"},
		{"a tiny rate, no exponent", d("0.000049757873000"), d("0.005"), decimal.New(49509083635, -15), "0.000049757873", "0.005", "0.000049509083635"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := toPricingJSON(fx.Pricing{
				Amount: d("500"), From: "USD", To: "JPY", MidRate: tt.mid, Margin: tt.margin, AppliedRate: tt.applied,
				ConvertedAmount: d("69750"),
			})
			if p.MidRate != tt.wantMid || p.Margin != tt.wantMargin || p.AppliedRate != tt.wantA {
				t.Fatalf("mid/margin/applied = %s/%s/%s, want %s/%s/%s", p.MidRate, p.Margin, p.AppliedRate, tt.wantMid, tt.wantMargin, tt.wantA)
			}
			for _, s := range []string{p.MidRate, p.Margin, p.AppliedRate} {
				if strings.ContainsAny(s, "eE") {
					t.Fatalf("%s is in exponent notation", s)
				}
			}
			if p.Amount != "500.00" || p.ConvertedAmount != "69750" {
				t.Fatalf("amounts %s USD, %s JPY: want them in their minor units", p.Amount, p.ConvertedAmount)
			}
		})
	}
}
