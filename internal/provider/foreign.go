package provider

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// Foreign is one rate of a publisher that prices foreign currencies in its
// own: Units units of Code cost Value of the publisher's currency.
type Foreign struct {
	Code  string
	Value string
	// Units is how many units of Code Value buys: 1 (or 0, read as 1),
	// 10, 100, 1000... Only powers of ten are accepted, so dividing by
	// them is an exact shift of the decimal point.
	Units int64
	// Skip records the code in Skipped without reading it: the adapter
	// knows the rate is not per ISO unit (gold per gram, not per troy
	// ounce as XAU means).
	Skip bool
}

// ForeignSets builds one publication of a publisher that quotes its own
// currency, quote, per unit of foreign ones (as most central banks do): one
// set per foreign currency, Base = that currency, one rate Quote = quote,
// valued per single unit (a per-100 value is shifted two places, every
// digit kept). The publisher's rate is never inverted. Codes that are no
// ISO 4217 currency (baskets, gold quoted by some, local codes) are skipped
// and recorded, as written, in Skipped of the first set only; the quote
// itself listed as a foreign currency is dropped. A code listed twice with
// different values, an empty code, or a value that is no plausible rate
// makes the publication invalid, as does a publication with no usable
// rate. Sets are sorted by Base.
func ForeignSets(name, quote string, asOf time.Time, payload []byte, rates []Foreign) ([]fx.RateSet, error) {
	values := map[string]string{}
	var order, skipped []string
	for _, r := range rates {
		code := strings.ToUpper(strings.TrimSpace(r.Code))
		if code == "" {
			return nil, Invalid("provider %s: a rate of %s has no currency code", name, asOf.Format(time.DateOnly))
		}
		if r.Skip {
			skipped = append(skipped, strings.TrimSpace(r.Code))
			continue
		}
		d, err := parseRate(r.Value)
		if err != nil {
			return nil, Invalid("provider %s: %s rate %q: %v", name, code, r.Value, err)
		}
		shift, ok := powerOfTen(r.Units)
		if !ok {
			return nil, Invalid("provider %s: %s is quoted per %d units, not a power of ten", name, code, r.Units)
		}
		value := fx.Exact(d.Shift(-shift))
		if prev, dup := values[code]; dup {
			if prev != value {
				return nil, Invalid("provider %s: %s appears twice on %s, as %s and %s", name, code, asOf.Format(time.DateOnly), prev, value)
			}
			continue
		}
		values[code] = value
		if code == quote {
			continue
		}
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped = append(skipped, strings.TrimSpace(r.Code))
			continue
		}
		order = append(order, code)
	}
	sort.Strings(order)
	sets := make([]fx.RateSet, 0, len(order))
	for _, code := range order {
		b, err := NewBuilder(name, code, asOf, payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(quote, values[code]); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, asOf.Format(time.DateOnly))
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, Invalid("provider %s: %s has no usable rates", name, asOf.Format(time.DateOnly))
	}
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, nil
}

// powerOfTen returns n's exponent when n is 1, 10, 100...; 0 counts as 1.
func powerOfTen(n int64) (int32, bool) {
	if n == 0 {
		return 0, true
	}
	var e int32
	for ; n > 1; n /= 10 {
		if n%10 != 0 {
			return 0, false
		}
		e++
	}
	return e, n == 1
}

// Mid returns the middle of a buying and a selling rate given as text,
// (buy + sell) / 2, exactly: halving a decimal adds at most one digit,
// which is kept; a trailing zero the halving adds beyond the inputs'
// digits is not (53.10 and 53.30 give 53.20, not 53.200).
func Mid(buy, sell string) (string, error) {
	b, err := parseRate(buy)
	if err != nil {
		return "", fmt.Errorf("buying rate %q: %v", buy, err)
	}
	s, err := parseRate(sell)
	if err != nil {
		return "", fmt.Errorf("selling rate %q: %v", sell, err)
	}
	m := b.Add(s).Mul(decimal.New(5, -1))
	places := -min(b.Exponent(), s.Exponent(), 0)
	if r := m.Round(places); r.Equal(m) {
		m = r
	}
	return fx.Exact(m), nil
}
