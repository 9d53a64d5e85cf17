package policy

import (
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// Comparisons the consensus check names.
const (
	// AgainstConsensus: the median of the other publishers' values of the
	// currency, of the same UTC date, on a common base.
	AgainstConsensus = "consensus"
	// AgainstIssuer: the issuing authority's value of the currency, of
	// the same UTC date, on a common base.
	AgainstIssuer = "issuer"
)

// Consensus is the quality gate's consensus check's parameters
// (GATE_CONSENSUS_MIN_OTHERS, GATE_CONSENSUS_MADS, GATE_CONSENSUS_BAND).
type Consensus struct {
	// MinOthers is how many other publishers must value the currency, on
	// the same day and base, for their median to judge a row; fewer, and
	// only the issuer (when it published that day) can.
	MinOthers int
	// MADs is how many median absolute deviations from the median a
	// value may stray.
	MADs decimal.Decimal
	// Band is the relative distance from the median (or from the
	// issuer's value) always tolerated, however small the MAD.
	Band decimal.Decimal
}

// DefaultConsensus is Frankfurter's outlier rule: held beyond 10 MADs of
// the median and at least 5% from it, once 4 publishers (the row's and 3
// others) value the currency.
var DefaultConsensus = Consensus{
	MinOthers: 3,
	MADs:      decimal.NewFromInt(10),
	Band:      decimal.RequireFromString("0.05"),
}

// Off reports whether the consensus check is turned off (a zero value).
func (c Consensus) Off() bool { return c.MinOthers <= 0 || !c.Band.IsPositive() }

// Common bases currencies are compared on: USD, else EUR (USD's own).
const (
	baseUSD = "USD"
	baseEUR = "EUR"
)

// Vote is one publisher's value of a currency on a base, derived from
// its own rows of one UTC date: how many units of the base one unit of
// the currency is worth, and the rows it was derived from (one when the
// publisher quotes the pair itself, two through its own pivot).
type Vote struct {
	Provider string          `json:"provider"`
	Value    decimal.Decimal `json:"value"`
	RateIDs  []int64         `json:"rate_ids"`
}

// Lag is a row an issuer's publication holds after the fact: another
// publisher's row of the same date, stored before the issuer's, whose
// value of the issuer's currency strays from the issuer's beyond the band.
type Lag struct {
	Rate    fx.Rate
	Finding Finding
}

// SameDay returns the rows of rows whose as_of falls on in's UTC date.
func SameDay(in fx.Rate, rows []fx.Rate) []fx.Rate {
	y, m, d := in.AsOf.UTC().Date()
	var out []fx.Rate
	for _, r := range rows {
		if ry, rm, rd := r.AsOf.UTC().Date(); ry == y && rm == m && rd == d {
			out = append(out, r)
		}
	}
	return out
}

// CheckConsensus is the consensus check of one incoming row in (not a
// legal peg's). day holds every publisher's rows of in's UTC date that
// may be weighed (in's own publisher's included, released rows only for
// the others); issuer names the currency each publisher issues ("" for a
// compiler).
//
// For each currency X of in's pair, X's value on a common base C (USD,
// or EUR for USD itself) is derived from in and, unless in quotes X
// against C, from the publisher's own same-day rate of in's other
// currency against C. It is then compared with the issuer of X's value,
// when the issuer published that day, within Band; failing an issuer,
// with the median of at least MinOthers other publishers' values, within
// max(MADs × MAD, Band × median). A publisher never answers to others
// about the currency it issues, nor about anything it can only value
// against that currency: after a devaluation every one of its rates
// moves, and it is the others that lag.
func CheckConsensus(in fx.Rate, day []fx.Rate, issuer func(provider string) string, c Consensus) (Finding, bool) {
	if c.Off() || !in.Value.IsPositive() {
		return Finding{}, false
	}
	own, others := split(in, day)
	mine := issuer(in.Provider)
	for _, pair := range [][2]string{{in.Base, in.Quote}, {in.Quote, in.Base}} {
		x := pair[0]
		if x == mine {
			continue
		}
		for _, base := range basesFor(x) {
			if base == mine {
				continue // compared on its own currency: a devaluation of it would read as others' error
			}
			v, ok := valueVia(in, own, x, base)
			if !ok {
				continue
			}
			f, judged, held := judge(x, base, v, others, issuer, c)
			if !judged {
				continue
			}
			if held {
				return f, true
			}
			break // judged on this base and kept
		}
	}
	return Finding{}, false
}

// LaggingBehind returns, for an issuer's incoming row in, the other
// publishers' rows of day (stored before it, still priced) that value the
// issuer's currency more than Band away from the issuer's value derived
// from in: the compilers a devaluation left behind. Each is held against
// in, so the order in which publications arrive never decides which side
// is priced.
func LaggingBehind(in fx.Rate, day []fx.Rate, issuer func(provider string) string, c Consensus) []Lag {
	mine := issuer(in.Provider)
	if c.Off() || mine == "" || (in.Base != mine && in.Quote != mine) || !in.Value.IsPositive() {
		return nil
	}
	own, others := split(in, day)
	refs := map[string]Vote{}
	for _, base := range basesFor(mine) {
		if ref, ok := valueVia(in, own, mine, base); ok {
			refs[base] = ref
		} else if ref, ok := valueOf(in.Provider, own, mine, base); ok {
			refs[base] = ref // the issuer's own rate of that day on the other base
		}
	}
	byProvider := groupByProvider(others)
	var out []Lag
	for _, p := range sortedKeys(byProvider) {
		rows, theirs := byProvider[p], issuer(p)
		if theirs == mine {
			continue
		}
		for _, r := range rows {
			if r.Base != mine && r.Quote != mine {
				continue
			}
			for _, base := range basesFor(mine) {
				ref, ok := refs[base]
				if !ok || base == theirs {
					continue // valued against its own currency: that is its call, as mine is mine
				}
				v, ok := valueVia(r, rows, mine, base)
				if !ok {
					continue
				}
				if ch := RelativeChange(v.Value, ref.Value); ch.GreaterThan(c.Band) {
					out = append(out, Lag{Rate: r, Finding: Finding{
						Against: AgainstIssuer, Reference: in, ReferenceValue: ref.Value, Change: ch, Limit: c.Band,
						Currency: mine, On: base, Value: v.Value, Band: c.Band, Votes: []Vote{ref},
					}})
				}
				break
			}
		}
	}
	return out
}

// judge compares v (the incoming publisher's value of x on base) with the
// issuer's value of x, else with the other publishers' median. judged is
// false when neither is available on this base.
func judge(x, base string, v Vote, others []fx.Rate, issuer func(string) string, c Consensus) (f Finding, judged, held bool) {
	byProvider := groupByProvider(others)
	var votes []Vote
	for _, p := range sortedKeys(byProvider) {
		w, ok := valueOf(p, byProvider[p], x, base)
		if !ok {
			continue
		}
		if issuer(p) == x {
			ch := RelativeChange(v.Value, w.Value)
			f := Finding{Against: AgainstIssuer, Reference: firstRow(byProvider[p], w.RateIDs), ReferenceValue: w.Value,
				Change: ch, Limit: c.Band, Currency: x, On: base, Value: v.Value, Band: c.Band, Votes: []Vote{w}}
			return f, true, ch.GreaterThan(c.Band)
		}
		votes = append(votes, w)
	}
	if len(votes) < c.MinOthers {
		return Finding{}, false, false
	}
	values := make([]decimal.Decimal, len(votes))
	for i, w := range votes {
		values[i] = w.Value
	}
	med := Median(values)
	if !med.IsPositive() {
		return Finding{}, false, false
	}
	dev := make([]decimal.Decimal, len(values))
	for i, w := range values {
		dev[i] = w.Sub(med).Abs()
	}
	mad := Median(dev)
	tolerance := decimal.Max(c.MADs.Mul(mad), c.Band.Mul(med))
	limit := fx.DivideRates(tolerance, med)
	ch := RelativeChange(v.Value, med)
	f = Finding{Against: AgainstConsensus, ReferenceValue: med, Change: ch, Limit: limit,
		Currency: x, On: base, Value: v.Value, Median: med, MAD: mad, MADs: c.MADs, Band: c.Band, Votes: votes}
	return f, true, v.Value.Sub(med).Abs().GreaterThan(tolerance)
}

// Median is the middle value of values (the mean of the two middle ones
// for an even count); zero for none.
func Median(values []decimal.Decimal) decimal.Decimal {
	if len(values) == 0 {
		return decimal.Zero
	}
	s := slices.Clone(values)
	slices.SortFunc(s, func(a, b decimal.Decimal) int { return a.Cmp(b) })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1].Add(s[n/2]).Div(decimal.NewFromInt(2))
}

// basesFor is the common bases x may be valued on, in order of preference.
func basesFor(x string) []string {
	switch x {
	case baseUSD:
		return []string{baseEUR}
	case baseEUR:
		return []string{baseUSD}
	}
	return []string{baseUSD, baseEUR}
}

// valueVia values x on base through row r (which quotes x against
// another currency o) and, unless o is base, the publisher's own rate of
// o against base among rows.
func valueVia(r fx.Rate, rows []fx.Rate, x, base string) (Vote, bool) {
	o := r.Base
	if o == x {
		o = r.Quote
	}
	xo, ok := price(r, x, o)
	if !ok {
		return Vote{}, false
	}
	if o == base {
		return Vote{Provider: r.Provider, Value: xo, RateIDs: []int64{r.ID}}, true
	}
	for _, b := range rows {
		if b.Provider != r.Provider || !quotes(b, o, base) {
			continue
		}
		if co, ok := price(b, base, o); ok {
			return Vote{Provider: r.Provider, Value: fx.DivideRates(xo, co), RateIDs: []int64{r.ID, b.ID}}, true
		}
	}
	return Vote{}, false
}

// valueOf values x on base from one publisher's rows of a day: its own
// rate of the pair when it quotes it, else through the first currency
// (alphabetically) it quotes against both.
func valueOf(provider string, rows []fx.Rate, x, base string) (Vote, bool) {
	for _, r := range rows {
		if quotes(r, x, base) {
			if v, ok := price(r, x, base); ok {
				return Vote{Provider: provider, Value: v, RateIDs: []int64{r.ID}}, true
			}
		}
	}
	var vias []fx.Rate
	for _, r := range rows {
		if (r.Base == x || r.Quote == x) && r.Base != base && r.Quote != base {
			vias = append(vias, r)
		}
	}
	slices.SortFunc(vias, func(a, b fx.Rate) int { return strings.Compare(other(a, x), other(b, x)) })
	for _, r := range vias {
		if v, ok := valueVia(r, rows, x, base); ok {
			return v, true
		}
	}
	return Vote{}, false
}

// price is how many units of o one unit of x is worth according to r,
// which quotes the pair x/o either way round.
func price(r fx.Rate, x, o string) (decimal.Decimal, bool) {
	if !r.Value.IsPositive() {
		return decimal.Decimal{}, false
	}
	switch {
	case r.Base == x && r.Quote == o:
		return r.Value, true
	case r.Base == o && r.Quote == x:
		return fx.DivideRates(decimal.NewFromInt(1), r.Value), true
	}
	return decimal.Decimal{}, false
}

func quotes(r fx.Rate, a, b string) bool {
	return (r.Base == a && r.Quote == b) || (r.Base == b && r.Quote == a)
}

func other(r fx.Rate, x string) string {
	if r.Base == x {
		return r.Quote
	}
	return r.Base
}

// split separates in's publisher's rows of the day (in included once)
// from the others'.
func split(in fx.Rate, day []fx.Rate) (own, others []fx.Rate) {
	own = []fx.Rate{in}
	for _, r := range day {
		switch {
		case r.Provider != in.Provider:
			others = append(others, r)
		case r.ID != in.ID:
			own = append(own, r)
		}
	}
	return own, others
}

func groupByProvider(rows []fx.Rate) map[string][]fx.Rate {
	out := map[string][]fx.Rate{}
	for _, r := range rows {
		out[r.Provider] = append(out[r.Provider], r)
	}
	return out
}

func sortedKeys(m map[string][]fx.Rate) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// firstRow is the row of rows named first in ids.
func firstRow(rows []fx.Rate, ids []int64) fx.Rate {
	for _, r := range rows {
		if len(ids) > 0 && r.ID == ids[0] {
			return r
		}
	}
	return fx.Rate{}
}
