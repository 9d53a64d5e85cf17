// Package policy holds CES's pricing policies as pure functions: which
// stored rates price a pair (the source policy, Route) and which incoming
// rates are held back for an operator (the quality gate, Check). It does
// no I/O; callers hand it the rows they read.
package policy

import (
	"fmt"
	"slices"
	"sort"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// Rules of the source policy, in the order they are tried. The name of
// the rule that priced a pair is part of every answer.
const (
	// RuleIdentity: from == to, 1 by definition, no rows.
	RuleIdentity = "identity"
	// RuleDirect: one provider publishes from→to; its digits are served as
	// published.
	RuleDirect = "direct"
	// RuleInverse: one provider publishes to→from; the rate is 1 ÷ that.
	RuleInverse = "inverse"
	// RuleCross: one provider quotes both currencies against a common
	// currency of its own (the ECB's EUR, the CBN's NGN).
	RuleCross = "cross"
	// RuleCrossProvider: from–via from one provider, via–to from another.
	RuleCrossProvider = "cross_provider"
)

// Book is the set of servable rates a lookup may price from: for every
// provider, its newest released rate per (base, quote) as of the instant
// asked. Build it with NewBook; it is read-only afterwards and safe to share.
type Book struct {
	// edges[provider][currency] lists the rates that touch currency.
	edges map[string]map[string][]fx.Rate
	pairs map[string]map[[2]string]fx.Rate
	// newest lists the providers by their newest rate, newest first.
	newest []string
	// auth, when set, is the default source policy (Route without a
	// priority) and names the peg rule.
	auth *Authority
}

// NewBook indexes rates (any providers, any bases). When rows of one
// (provider, base, quote) repeat, the newest as_of wins. Its Route follows
// a priority only; NewAuthorityBook adds the default policy.
func NewBook(rates []fx.Rate) *Book { return NewAuthorityBook(rates, nil) }

// NewAuthorityBook is NewBook whose Route, given no priority, follows a
// (see Authority); a nil a leaves it to priority alone.
func NewAuthorityBook(rates []fx.Rate, a *Authority) *Book {
	b := &Book{edges: map[string]map[string][]fx.Rate{}, pairs: map[string]map[[2]string]fx.Rate{}, auth: a}
	for _, r := range rates {
		p := b.pairs[r.Provider]
		if p == nil {
			p = map[[2]string]fx.Rate{}
			b.pairs[r.Provider] = p
		}
		k := [2]string{r.Base, r.Quote}
		if old, ok := p[k]; ok && !r.AsOf.After(old.AsOf) {
			continue
		}
		p[k] = r
	}
	for prov, p := range b.pairs {
		e := map[string][]fx.Rate{}
		for _, r := range p {
			e[r.Base] = append(e[r.Base], r)
			e[r.Quote] = append(e[r.Quote], r)
		}
		for c := range e {
			sort.Slice(e[c], func(i, j int) bool { return e[c][i].Base+e[c][i].Quote < e[c][j].Base+e[c][j].Quote })
		}
		b.edges[prov] = e
	}
	b.newest = newestFirst(b.pairs)
	return b
}

// Empty reports whether the book holds no rate at all.
func (b *Book) Empty() bool { return len(b.pairs) == 0 }

// Rates returns every rate in the book, sorted by provider, base and quote.
func (b *Book) Rates() []fx.Rate {
	var out []fx.Rate
	for _, p := range b.pairs {
		for _, r := range p {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Base+out[i].Quote < out[j].Base+out[j].Quote
	})
	return out
}

// Providers returns the providers that quote code, sorted.
func (b *Book) Providers(code string) []string {
	var out []string
	for p, e := range b.edges {
		if len(e[code]) > 0 {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Currencies returns every code some provider in the book quotes, sorted.
func (b *Book) Currencies() []string {
	seen := map[string]bool{}
	for _, e := range b.edges {
		for c := range e {
			seen[c] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (b *Book) rate(provider, base, quote string) (fx.Rate, bool) {
	r, ok := b.pairs[provider][[2]string{base, quote}]
	return r, ok
}

// leg is one stored rate used on the way from→to: as published (a factor
// of the numerator) or inverted (a factor of the denominator).
type leg struct {
	rate   fx.Rate
	invert bool
}

// hop returns provider's rate a→b, as published or inverted.
func (b *Book) hop(provider, from, to string) (leg, bool) {
	if r, ok := b.rate(provider, from, to); ok {
		return leg{rate: r}, true
	}
	if r, ok := b.rate(provider, to, from); ok {
		return leg{rate: r, invert: true}, true
	}
	return leg{}, false
}

// neighbours lists the currencies provider links to code, sorted.
func (b *Book) neighbours(provider, code string) []string {
	var out []string
	for _, r := range b.edges[provider][code] {
		other := r.Quote
		if other == code {
			other = r.Base
		}
		if !slices.Contains(out, other) {
			out = append(out, other)
		}
	}
	sort.Strings(out)
	return out
}

// Route prices from→to from the book by the source policy, trying each
// rule in turn and, within a rule, the providers in priority order:
//
//  1. direct or inverse: a provider that quotes the pair itself;
//  2. cross: one provider quoting both currencies against a common
//     currency (its own base for the ECB and Open Exchange Rates, NGN
//     for the CBN); among several, the alphabetically first;
//  3. cross_provider: from–via from one provider and via–to from another,
//     preferring the first provider (in priority) for the from side, then
//     the first for the to side, then the alphabetically first via.
//
// Providers missing from priority come after the listed ones, sorted.
// When only is set, only that provider's rates are considered (rules 1
// and 2). The quote's Provider names the providers of its legs, joined by
// "+" in leg order; its AsOf and FetchedAt are those of its oldest leg.
//
// A book with an Authority, asked with neither priority nor only, ranks
// the routes by who stands behind each currency instead (see Authority).
// Either way, an answer with a peg among its legs has the rule RulePeg.
func (b *Book) Route(from, to string, priority []string, only string) (fx.Quote, error) {
	if from == to {
		return fx.Quote{From: from, To: to, Value: decimal.NewFromInt(1), Rule: RuleIdentity}, nil
	}
	if b.auth != nil && len(priority) == 0 && only == "" {
		return b.routeByAuthority(from, to)
	}
	order := b.order(priority)
	if only != "" {
		order = []string{only}
	}
	for _, p := range order {
		if l, ok := b.hop(p, from, to); ok {
			rule := RuleDirect
			if l.invert {
				rule = RuleInverse
			}
			return b.quote(from, to, rule, "", l), nil
		}
	}
	for _, p := range order {
		for _, via := range b.neighbours(p, from) {
			if via == to {
				continue
			}
			l1, _ := b.hop(p, from, via)
			if l2, ok := b.hop(p, via, to); ok {
				return b.quote(from, to, RuleCross, via, l1, l2), nil
			}
		}
	}
	if only == "" {
		for _, p1 := range order {
			for _, p2 := range order {
				if p1 == p2 {
					continue
				}
				for _, via := range b.neighbours(p1, from) {
					if via == to {
						continue
					}
					l1, _ := b.hop(p1, from, via)
					if l2, ok := b.hop(p2, via, to); ok {
						return b.quote(from, to, RuleCrossProvider, via, l1, l2), nil
					}
				}
			}
		}
	}
	if only != "" {
		return fx.Quote{}, fmt.Errorf("%w: %s's rates cannot price %s/%s", fx.ErrRateNotFound, only, from, to)
	}
	return fx.Quote{}, fmt.Errorf("%w: no provider's rates price %s/%s, directly or through a common currency", fx.ErrRateNotFound, from, to)
}

// order is priority followed by the book's other providers, sorted.
func (b *Book) order(priority []string) []string {
	out := slices.Clone(priority)
	var rest []string
	for p := range b.pairs {
		if !slices.Contains(out, p) {
			rest = append(rest, p)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// quote is the package's quote, with the rule RulePeg when a leg is one
// of the Authority's pegs. A peg holds from the day it took effect until
// its authority changes it, so it does not date the answer: its AsOf and
// FetchedAt are those of its oldest published leg, or, when every leg is
// a peg, of the peg that took effect last.
func (b *Book) quote(from, to, rule, via string, legs ...leg) fx.Quote {
	if b.auth == nil || b.auth.Peg == "" {
		return quote(from, to, rule, via, legs...)
	}
	var published []leg
	for _, l := range legs {
		if l.rate.Provider == b.auth.Peg {
			rule = RulePeg
		} else {
			published = append(published, l)
		}
	}
	q := quote(from, to, rule, via, legs...)
	switch {
	case rule != RulePeg:
	case len(published) > 0:
		dated := quote(from, to, rule, via, published...)
		q.AsOf, q.FetchedAt = dated.AsOf, dated.FetchedAt
	default:
		// Pegs alone: the pair holds since the later of them took effect.
		for _, l := range legs {
			if l.rate.AsOf.After(q.AsOf) {
				q.AsOf, q.FetchedAt = l.rate.AsOf, l.rate.FetchedAt
			}
		}
	}
	return q
}

// quote multiplies the legs out with one rounding: the product of the
// published factors over the product of the inverted ones, divided by
// fx.DivideRates. A single published leg keeps its digits exactly.
func quote(from, to, rule, via string, legs ...leg) fx.Quote {
	q := fx.Quote{From: from, To: to, Rule: rule, Via: via}
	num, den := decimal.NewFromInt(1), decimal.NewFromInt(1)
	for i, l := range legs {
		if l.invert {
			den = den.Mul(l.rate.Value)
		} else {
			num = num.Mul(l.rate.Value)
		}
		q.Legs = append(q.Legs, l.rate)
		if i == 0 || l.rate.AsOf.Before(q.AsOf) {
			q.AsOf = l.rate.AsOf
		}
		if i == 0 || l.rate.FetchedAt.Before(q.FetchedAt) {
			q.FetchedAt = l.rate.FetchedAt
		}
		if i == 0 {
			q.Provider = l.rate.Provider
		} else if l.rate.Provider != legs[i-1].rate.Provider {
			q.Provider += "+" + l.rate.Provider
		}
	}
	if len(legs) == 1 && !legs[0].invert {
		q.Value = legs[0].rate.Value
	} else {
		q.Value = fx.DivideRates(num, den)
	}
	return q
}

// Recompute re-derives a quote's value from its legs and rule, for a
// verifier that trusts only stored rows: the legs must chain from→to.
func Recompute(from, to, rule string, legs []fx.Rate) (decimal.Decimal, error) {
	switch {
	case rule == RuleIdentity && len(legs) == 0 && from == to:
		return decimal.NewFromInt(1), nil
	case len(legs) == 0 || len(legs) > 2:
		return decimal.Decimal{}, fmt.Errorf("policy: %s with %d legs", rule, len(legs))
	}
	cur := from
	var ls []leg
	for _, r := range legs {
		switch cur {
		case r.Base:
			ls = append(ls, leg{rate: r})
			cur = r.Quote
		case r.Quote:
			ls = append(ls, leg{rate: r, invert: true})
			cur = r.Base
		default:
			return decimal.Decimal{}, fmt.Errorf("policy: leg %s/%s does not continue from %s", r.Base, r.Quote, cur)
		}
	}
	if cur != to {
		return decimal.Decimal{}, fmt.Errorf("policy: legs end at %s, not %s", cur, to)
	}
	return quote(from, to, rule, "", ls...).Value, nil
}
