package policy

import (
	"testing"
	"time"

	"ces/internal/fx"
)

// world is a book shaped like the catalogue's: the ECB (EUR base), issuers
// quoting foreign currencies in their own (the CBK in KES, the CBE in EGP,
// the CNB in CZK, the BCB in BRL, FRED in USD), compilers (Banca d'Italia
// against EUR, the IMF against USD) and legal pegs (base the anchor). The
// values are rounded from the recordings under testdata/; the pegs are
// the fixed rates of ../shared/fixtures/central-banks/pegs. Expected
// derived values were computed with Python's decimal module (20
// significant digits, ROUND_HALF_EVEN).
func world(withFRED bool) *Book {
	rows := []fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1.1592", t0),
		rate(2, "ecb", "EUR", "JPY", "184.53", t0),
		rate(3, "ecb", "EUR", "CZK", "24.31", t0),
		rate(4, "ecb", "EUR", "BRL", "6.09", t0),
		rate(10, "cbk", "USD", "KES", "129.4", t0),
		rate(11, "cbk", "EUR", "KES", "150.2", t0),
		rate(12, "cbk", "JPY", "KES", "0.8672", t0),
		rate(20, "cbe", "USD", "EGP", "50.98", t0),
		rate(21, "cbe", "EUR", "EGP", "59.1", t0),
		rate(30, "cnb", "EUR", "CZK", "24.305", t0),
		rate(31, "cnb", "USD", "CZK", "20.97", t0),
		rate(40, "bcb", "USD", "BRL", "5.25", t0),
		rate(50, "bdi", "EUR", "USD", "1.1590", t0),
		rate(51, "bdi", "EUR", "JPY", "184.6", t0),
		rate(52, "bdi", "EUR", "KES", "150.4", t0),
		rate(53, "bdi", "EUR", "EGP", "59.2", t0),
		rate(54, "bdi", "EUR", "XOF", "655.96", t0),
		rate(60, "imf", "USD", "JPY", "159.2", t0),
		rate(61, "imf", "USD", "XOF", "565.9", t0),
		rate(62, "imf", "USD", "AED", "3.6725", t0),
		rate(70, "peg", "EUR", "XOF", "655.957", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)),
		rate(71, "peg", "EUR", "XAF", "655.957", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)),
		rate(72, "peg", "USD", "AED", "3.6725", time.Date(1997, 11, 2, 0, 0, 0, 0, time.UTC)),
	}
	issuers := map[string]string{"EUR": "ecb", "KES": "cbk", "EGP": "cbe", "CZK": "cnb", "BRL": "bcb"}
	if withFRED {
		rows = append(rows, rate(80, "fred", "EUR", "USD", "1.1601", t0))
		issuers["USD"] = "fred"
	}
	return NewAuthorityBook(rows, &Authority{Issuer: issuers, Peg: "peg", Reference: "ecb"})
}

// TestRouteByAuthorityPrefersNewerLegs checks that among equally ranked
// routes the one whose oldest leg is newest wins, before the common
// currency's preference: issuers' rows of different days cross on the
// newer ones.
func TestRouteByAuthorityPrefersNewerLegs(t *testing.T) {
	day := t0.Add(-24 * time.Hour)
	b := NewAuthorityBook([]fx.Rate{
		rate(1, "cbk", "USD", "KES", "129.4", day),
		rate(2, "cbk", "EUR", "KES", "150.2", t0),
		rate(3, "cbe", "USD", "EGP", "50.98", t0),
		rate(4, "cbe", "EUR", "EGP", "59.1", t0),
	}, &Authority{Issuer: map[string]string{"KES": "cbk", "EGP": "cbe"}, Peg: "peg", Reference: "ecb"})
	q, err := b.Route("KES", "EGP", nil, "")
	if err != nil || q.Via != "EUR" || q.Legs[0].ID != 2 || q.Legs[1].ID != 4 {
		t.Fatalf("KES→EGP = %+v, %v; want through EUR, whose legs are both of the newer day", q, err)
	}
}

func TestRouteByAuthority(t *testing.T) {
	tests := []struct {
		name, from, to      string
		fred                bool
		prio                []string
		rule, via, provider string
		value               string
		legs                []int64
	}{
		{name: "the issuer prices its currency against USD", from: "USD", to: "KES", rule: RuleDirect, provider: "cbk", value: "129.4", legs: []int64{10}},
		{name: "and the other way", from: "KES", to: "USD", rule: RuleInverse, provider: "cbk", value: "0.0077279752704791344668", legs: []int64{10}},
		{name: "an issuer's own cross of two foreign currencies is its price", from: "KES", to: "JPY", rule: RuleInverse, provider: "cbk", value: "1.1531365313653136531", legs: []int64{12}},
		{name: "a pair's other issuer ahead of the ECB", from: "EUR", to: "CZK", rule: RuleDirect, provider: "cnb", value: "24.305", legs: []int64{30}},
		{name: "two issuers ahead of one compiler, crossed through USD", from: "KES", to: "EGP", rule: RuleCrossProvider, via: "USD", provider: "cbk+cbe", value: "0.39397217928902627512", legs: []int64{10, 20}},
		{name: "the issuer's leg ahead of the ECB's direct rate", from: "EUR", to: "BRL", rule: RuleCrossProvider, via: "USD", provider: "ecb+bcb", value: "6.0858000000000000000", legs: []int64{1, 40}},
		{name: "with no issuer the ECB ahead of a compiler's direct rate", from: "USD", to: "JPY", rule: RuleCross, via: "EUR", provider: "ecb", value: "159.18737060041407867", legs: []int64{1, 2}},
		{name: "the ECB for the euro when USD's issuer is not configured", from: "EUR", to: "USD", rule: RuleDirect, provider: "ecb", value: "1.1592", legs: []int64{1}},
		{name: "USD's issuer ahead of the ECB when configured", from: "EUR", to: "USD", fred: true, rule: RuleDirect, provider: "fred", value: "1.1601", legs: []int64{80}},
		{name: "a peg keeps its legal digits", from: "EUR", to: "XOF", rule: RulePeg, provider: "peg", value: "655.957", legs: []int64{70}},
		{name: "a peg ahead of the compilers, crossed through its anchor", from: "USD", to: "XOF", rule: RulePeg, via: "EUR", provider: "ecb+peg", value: "565.87042788129744651", legs: []int64{1, 70}},
		{name: "two pegs to one anchor", from: "XOF", to: "XAF", rule: RulePeg, via: "EUR", provider: "peg", value: "1.0000000000000000000", legs: []int64{70, 71}},
		{name: "a USD peg ahead of the IMF's quote", from: "USD", to: "AED", rule: RulePeg, provider: "peg", value: "3.6725", legs: []int64{72}},
		{name: "FX_SOURCE_PRIORITY overrides the policy", from: "USD", to: "JPY", prio: []string{"imf"}, rule: RuleDirect, provider: "imf", value: "159.2", legs: []int64{60}},
		{name: "a peg leg names the rule under a priority too", from: "XOF", to: "XAF", prio: []string{"ecb"}, rule: RulePeg, via: "EUR", provider: "peg", value: "1.0000000000000000000", legs: []int64{70, 71}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := world(tt.fred).Route(tt.from, tt.to, tt.prio, "")
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
			if len(ids) != len(tt.legs) || (len(ids) > 0 && ids[0] != tt.legs[0]) || (len(ids) > 1 && ids[1] != tt.legs[1]) {
				t.Fatalf("legs = %v, want %v", ids, tt.legs)
			}
			v, err := Recompute(tt.from, tt.to, q.Rule, q.Legs)
			if err != nil || !v.Equal(q.Value) {
				t.Errorf("Recompute = %s, %v; want %s", v, err, q.Value)
			}
			// A peg holds every day since it took effect: a published
			// leg dates the answer, or the pegs alone do.
			want := t0
			if tt.provider == "peg" {
				want = q.Legs[0].AsOf
				for _, l := range q.Legs {
					if l.AsOf.After(want) {
						want = l.AsOf
					}
				}
			}
			if !q.AsOf.Equal(want) {
				t.Errorf("as_of = %s, want %s", q.AsOf, want)
			}
		})
	}
}

// TestStaleIssuerGivesWay checks freshness still comes first under the
// default policy: an issuer's stale rate never outranks the ECB's fresh
// one, and prices only when nothing fresh can (the answer says stale).
func TestStaleIssuerGivesWay(t *testing.T) {
	old := t0.Add(-10 * 24 * time.Hour)
	rows := []fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1.1592", t0),
		rate(3, "ecb", "EUR", "CZK", "24.31", t0),
		rate(30, "cnb", "EUR", "CZK", "24.305", old),
		rate(31, "cnb", "USD", "KES", "129", old),
	}
	a := &Authority{Issuer: map[string]string{"EUR": "ecb", "CZK": "cnb"}, Peg: "peg", Reference: "ecb"}
	s := Standing{At: t0, StaleAfter: func(string) time.Duration { return 97 * time.Hour }}
	books := NewBooks(rows, s, a)
	p, err := books.Price("EUR", "CZK", nil, "")
	if err != nil || p.Provider != "ecb" || p.Stale {
		t.Fatalf("EUR/CZK = %s stale=%v, %v; want the fresh ECB", p.Provider, p.Stale, err)
	}
	p, err = books.Price("USD", "KES", nil, "")
	if err != nil || p.Provider != "cnb" || !p.Stale {
		t.Fatalf("USD/KES = %s stale=%v, %v; want the stale CNB, said stale", p.Provider, p.Stale, err)
	}
}
