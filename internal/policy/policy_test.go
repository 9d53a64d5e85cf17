package policy

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

var t0 = time.Date(2026, 5, 21, 14, 0, 0, 0, time.UTC)

func rate(id int64, provider, base, quote, value string, asOf time.Time) fx.Rate {
	return fx.Rate{ID: id, Provider: provider, Base: base, Quote: quote, Value: decimal.RequireFromString(value), AsOf: asOf, FetchedAt: asOf}
}

// book is ECB (EUR base) and CBN (NGN quote) rows as recorded around
// 2026-05-21 (CBN values from testdata/cbn), with an OXR-like USD-based
// provider. Expected values were computed with Python's decimal module
// (20 significant digits, ROUND_HALF_EVEN), independently of this code.
func book() *Book {
	return NewBook([]fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1.1592", t0),
		rate(2, "ecb", "EUR", "SEK", "10.9335", t0),
		rate(3, "ecb", "EUR", "JPY", "184.53", t0),
		rate(10, "cbn", "USD", "NGN", "1371.8079", t0.Add(2*time.Hour)),
		rate(11, "cbn", "EUR", "NGN", "1590.1997", t0.Add(2*time.Hour)),
		rate(12, "cbn", "GBP", "NGN", "1839.5944", t0.Add(2*time.Hour)),
		rate(20, "oxr", "USD", "EUR", "0.8627", t0.Add(time.Hour)),
		rate(21, "oxr", "USD", "CHF", "0.79", t0.Add(time.Hour)),
		// an older row of the same pair never wins
		rate(9, "cbn", "USD", "NGN", "1300", t0.Add(-24*time.Hour)),
	})
}

func TestRoute(t *testing.T) {
	b := book()
	prio := []string{"ecb", "cbn", "oxr"}
	tests := []struct {
		name, from, to, only string
		prio                 []string
		rule, via, provider  string
		value                string
		legs                 []int64
		asOf                 time.Time
	}{
		{name: "identity", from: "USD", to: "USD", rule: RuleIdentity, value: "1"},
		{name: "direct keeps the digits", from: "USD", to: "NGN", rule: RuleDirect, provider: "cbn", value: "1371.8079", legs: []int64{10}, asOf: t0.Add(2 * time.Hour)},
		{name: "inverse", from: "NGN", to: "USD", rule: RuleInverse, provider: "cbn", value: "0.00072896503949277446208", legs: []int64{10}, asOf: t0.Add(2 * time.Hour)},
		{name: "direct from the first provider in priority", from: "EUR", to: "USD", rule: RuleDirect, provider: "ecb", value: "1.1592", legs: []int64{1}, asOf: t0},
		{name: "priority changes the provider", from: "EUR", to: "USD", prio: []string{"oxr", "ecb"}, rule: RuleInverse, provider: "oxr", value: "1.1591515011011939260", legs: []int64{20}, asOf: t0.Add(time.Hour)},
		{name: "cross within the ECB", from: "USD", to: "SEK", rule: RuleCross, via: "EUR", provider: "ecb", value: "9.4319358178053830228", legs: []int64{1, 2}, asOf: t0},
		{name: "cross within the CBN through NGN", from: "GBP", to: "USD", rule: RuleCross, via: "NGN", provider: "cbn", value: "1.3410000044466867409", legs: []int64{12, 10}, asOf: t0.Add(2 * time.Hour)},
		{name: "cross across providers", from: "SEK", to: "NGN", rule: RuleCrossProvider, via: "EUR", provider: "ecb+cbn", value: "145.44287739516165912", legs: []int64{2, 11}, asOf: t0},
		{name: "across providers the other way", from: "NGN", to: "CHF", rule: RuleCrossProvider, via: "USD", provider: "cbn+oxr", value: "0.00057588238119929182504", legs: []int64{10, 21}, asOf: t0.Add(time.Hour)},
		{name: "pinned provider prices inside it", from: "USD", to: "EUR", only: "ecb", rule: RuleInverse, provider: "ecb", value: "0.86266390614216701173", legs: []int64{1}, asOf: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prio
			if tt.prio != nil {
				p = tt.prio
			}
			q, err := b.Route(tt.from, tt.to, p, tt.only)
			if err != nil {
				t.Fatal(err)
			}
			if q.Rule != tt.rule || q.Via != tt.via || q.Provider != tt.provider {
				t.Errorf("rule/via/provider = %s/%s/%s, want %s/%s/%s", q.Rule, q.Via, q.Provider, tt.rule, tt.via, tt.provider)
			}
			if fx.Exact(q.Value) != tt.value {
				t.Errorf("value = %s, want %s", fx.Exact(q.Value), tt.value)
			}
			var ids []int64
			for _, l := range q.Legs {
				ids = append(ids, l.ID)
			}
			if len(ids) != len(tt.legs) {
				t.Fatalf("legs = %v, want %v", ids, tt.legs)
			}
			for i := range ids {
				if ids[i] != tt.legs[i] {
					t.Fatalf("legs = %v, want %v", ids, tt.legs)
				}
			}
			if !q.AsOf.Equal(tt.asOf) {
				t.Errorf("as_of = %s, want %s (the oldest leg)", q.AsOf, tt.asOf)
			}
			if tt.rule != RuleIdentity {
				v, err := Recompute(tt.from, tt.to, q.Rule, q.Legs)
				if err != nil || !v.Equal(q.Value) {
					t.Errorf("Recompute = %s, %v; want %s", v, err, q.Value)
				}
			}
		})
	}
}

func TestRouteRefuses(t *testing.T) {
	b := book()
	tests := []struct{ name, from, to, only string }{
		{"nobody quotes it", "USD", "ZAR", ""},
		{"two pivots are not searched", "CHF", "JPY", ""},
		{"pinned provider cannot cross providers", "SEK", "NGN", "ecb"},
		{"pinned provider that is absent", "USD", "NGN", "oxr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if q, err := b.Route(tt.from, tt.to, []string{"ecb", "cbn", "oxr"}, tt.only); !errors.Is(err, fx.ErrRateNotFound) {
				t.Fatalf("Route = %+v, %v; want ErrRateNotFound", q, err)
			}
		})
	}
}

func TestRecomputeRefusesBrokenChains(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		legs     []fx.Rate
	}{
		{"no legs", "USD", "SEK", nil},
		{"leg does not start at from", "USD", "SEK", []fx.Rate{rate(2, "ecb", "EUR", "SEK", "10", t0)}},
		{"legs end elsewhere", "USD", "SEK", []fx.Rate{rate(1, "ecb", "EUR", "USD", "1", t0), rate(3, "ecb", "EUR", "JPY", "2", t0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Recompute(tt.from, tt.to, RuleCross, tt.legs); err == nil {
				t.Fatal("Recompute accepted a broken chain")
			}
		})
	}
}

func TestBookIndexes(t *testing.T) {
	b := book()
	if got := b.Providers("EUR"); len(got) != 3 {
		t.Errorf("Providers(EUR) = %v, want all three", got)
	}
	if got := b.Providers("NGN"); len(got) != 1 || got[0] != "cbn" {
		t.Errorf("Providers(NGN) = %v, want [cbn]", got)
	}
	if got := len(b.Rates()); got != 8 {
		t.Errorf("Rates() has %d rows, want 8 (the newest per pair)", got)
	}
}

func TestCheck(t *testing.T) {
	limit := DefaultJumpLimit
	prev := rate(1, "ecb", "EUR", "JPY", "149.00", t0.Add(-24*time.Hour))
	oxr := rate(2, "oxr", "JPY", "EUR", "0.0067", t0)
	tests := []struct {
		name     string
		in       fx.Rate
		previous *fx.Rate
		others   []fx.Rate
		issuer   func(string) string
		held     bool
		against  string
		change   string
	}{
		{name: "first publication passes", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0)},
		{name: "small move passes", in: rate(0, "ecb", "EUR", "JPY", "150.1", t0), previous: &prev},
		{name: "exactly at the limit passes", in: rate(0, "ecb", "EUR", "JPY", "186.25", t0), previous: &prev},
		{name: "just above the limit is held", in: rate(0, "ecb", "EUR", "JPY", "186.26", t0), previous: &prev, held: true, against: AgainstPrevious, change: "0.25006711409395973154"},
		{name: "a hundredfold drop is held", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), previous: &prev, held: true, against: AgainstPrevious, change: "0.99"},
		{name: "another provider's inverse quote disagrees", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), others: []fx.Rate{oxr}, held: true, against: AgainstProvider, change: "0.990017"},
		{name: "another provider agrees", in: rate(0, "ecb", "EUR", "JPY", "149.5", t0), previous: &prev, others: []fx.Rate{oxr}},
		{name: "the same provider is not a second opinion", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), others: []fx.Rate{rate(3, "ecb", "EUR", "JPY", "149", t0)}},
		{name: "another pair is no reference", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), others: []fx.Rate{rate(4, "oxr", "USD", "JPY", "149", t0)}},
		{name: "the issuer is not held by others' rate of its currency", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), others: []fx.Rate{oxr}, issuer: issuers},
		{name: "the issuer is still held by its own previous rate", in: rate(0, "ecb", "EUR", "JPY", "1.49", t0), previous: &prev, others: []fx.Rate{oxr}, issuer: issuers, held: true, against: AgainstPrevious, change: "0.99"},
		{name: "a compiler is held by the issuer's rate", in: rate(0, "oxr", "JPY", "EUR", "0.67", t0), others: []fx.Rate{rate(5, "ecb", "EUR", "JPY", "149.5", t0)}, issuer: issuers, held: true, against: AgainstProvider, change: "99.165"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, held := Check(tt.in, tt.previous, tt.others, limit, tt.issuer)
			if held != tt.held {
				t.Fatalf("held = %v (%+v), want %v", held, f, tt.held)
			}
			if !held {
				return
			}
			if f.Against != tt.against || f.Change.String() != tt.change || !f.Limit.Equal(limit) {
				t.Errorf("finding = %s %s (limit %s), want %s %s", f.Against, f.Change, f.Limit, tt.against, tt.change)
			}
		})
	}
}

func TestCascade(t *testing.T) {
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	limit := DefaultJumpLimit
	// A devaluation: 1 EUR moved from 1,590 to 2,300 NGN (held), then
	// settled around it; the operator releases the first held day.
	released := rate(1, "cbn", "EUR", "NGN", "2300", day(0))
	held := func(id int64, value string, n int, l decimal.Decimal) Held {
		return Held{Rate: rate(id, "cbn", "EUR", "NGN", value, day(n)), Limit: l}
	}
	tests := []struct {
		name  string
		later []Held
		want  int
	}{
		{name: "nothing after it", want: 0},
		{name: "every later day near it follows", later: []Held{held(2, "2310", 1, limit), held(3, "2290", 2, limit)}, want: 2},
		{name: "each is compared with the one before, not the first", later: []Held{held(2, "2800", 1, limit), held(3, "3400", 2, limit)}, want: 2},
		{name: "the first far one stops the cascade", later: []Held{held(2, "2310", 1, limit), held(3, "100", 2, limit), held(4, "2300", 3, limit)}, want: 1},
		{name: "exactly at the limit follows", later: []Held{held(2, "2875", 1, limit)}, want: 1},
		{name: "each held rate keeps its own limit", later: []Held{held(2, "2875", 1, decimal.RequireFromString("0.1"))}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cascade(released, tt.later); got != tt.want {
				t.Errorf("Cascade = %d, want %d", got, tt.want)
			}
		})
	}
}
