package policy

import (
	"fmt"
	"time"

	"ces/internal/fx"
)

// RulePeg names an answer with a legal peg among its legs: the pegged
// currency priced against its anchor at the rate its authority fixed, and
// through the anchor crossed to everything else.
const RulePeg = "peg"

// Authority says who stands behind each currency, for the default source
// policy (Book.Route with no priority):
//
//  1. the issuer: the central bank of a currency prices it (the Bank of
//     Canada prices CAD, against USD and anything else it quotes);
//  2. a legal peg: the currency's own authority fixed it to an anchor
//     (XOF to EUR), so a compiler's quote of it is the peg plus noise;
//  3. the reference publisher (the ECB): its rates are for information,
//     so even for the euro a pair's other issuer, when it publishes the
//     pair, comes first (EUR→CZK is the Czech National Bank's fixing);
//  4. every other publisher (compilers such as Banca d'Italia and the IMF,
//     central banks quoting currencies not theirs), alphabetically.
//
// A leg is judged by the currency of the pair it carries (a route's first
// leg carries from, its second to); a direct rate by the issuer of either
// currency is that issuer's price of the pair. Among routes, the one whose
// worse leg ranks best wins, then the better leg, then fewer legs, then
// the route whose oldest leg is newest, then a common currency of the
// most traded (USD, then EUR), then providers and the common currency
// alphabetically. An
// issuer's quote therefore beats the ECB's cross (USD→KES is the Central
// Bank of Kenya's, not EUR→USD and EUR→KES), and two issuers beat one
// compiler (KES→EGP crosses the CBK's and the CBE's rates, not Banca
// d'Italia's two).
type Authority struct {
	// Issuer maps a currency to the provider of its issuing authority.
	Issuer map[string]string
	// Peg is the provider whose rows are legal pegs: base the anchor,
	// quote the pegged currency.
	Peg string
	// Reference is the provider ranked after issuers and pegs.
	Reference string
}

// Ranks of a leg under Authority, best first.
const (
	rankIssuer = iota
	rankPeg
	rankReference
	rankOther
)

// rank is how well l's provider stands behind currency c.
func (a *Authority) rank(l leg, c string) int {
	p := l.rate.Provider
	switch {
	case p == a.Reference:
		return rankReference
	case a.Issuer[c] == p:
		return rankIssuer
	case p == a.Peg && l.rate.Quote == c:
		return rankPeg
	default:
		return rankOther
	}
}

// candidate is one way to price a pair under Authority.
type candidate struct {
	worst, best, n int
	// oldest is the as_of of its oldest leg.
	oldest time.Time
	// p1 and p2 index the providers of the legs in alphabetical order.
	p1, p2 int
	via    string
	l1, l2 leg
}

// viaRank prefers the most traded currencies as the common one, so that
// equally good routes cross where markets do (SEK→NGN through USD, not
// through whichever code sorts first).
func viaRank(via string) int {
	switch via {
	case "USD":
		return 0
	case "EUR":
		return 1
	}
	return 2
}

// better reports whether c ranks ahead of d.
func (c candidate) better(d candidate) bool {
	switch {
	case c.worst != d.worst:
		return c.worst < d.worst
	case c.best != d.best:
		return c.best < d.best
	case c.n != d.n:
		return c.n < d.n
	case !c.oldest.Equal(d.oldest):
		return c.oldest.After(d.oldest)
	case viaRank(c.via) != viaRank(d.via):
		return viaRank(c.via) < viaRank(d.via)
	case c.p1 != d.p1:
		return c.p1 < d.p1
	case c.p2 != d.p2:
		return c.p2 < d.p2
	default:
		return c.via < d.via
	}
}

// routeByAuthority prices from→to by the default source policy (see
// Authority): every direct rate and every two-leg route through a common
// currency is ranked, and the best is served.
func (b *Book) routeByAuthority(from, to string) (fx.Quote, error) {
	a := b.auth
	order := b.order(nil)
	var best candidate
	found := false
	consider := func(c candidate) {
		if !found || c.better(best) {
			best, found = c, true
		}
	}
	for i, p := range order {
		if l, ok := b.hop(p, from, to); ok {
			r := min(a.rank(l, from), a.rank(l, to))
			consider(candidate{worst: r, best: r, n: 1, oldest: l.rate.AsOf, p1: i, p2: i, l1: l})
		}
	}
	// The legs into to, by the currency they come from, so that each leg
	// out of from meets its continuations in one map read.
	type into struct {
		l    leg
		rank int
		p    int
	}
	arrivals := map[string][]into{}
	for j, p := range order {
		for _, via := range b.neighbours(p, to) {
			if via == from {
				continue
			}
			l, _ := b.hop(p, via, to)
			arrivals[via] = append(arrivals[via], into{l: l, rank: a.rank(l, to), p: j})
		}
	}
	for i, p := range order {
		for _, via := range b.neighbours(p, from) {
			next := arrivals[via]
			if len(next) == 0 {
				continue
			}
			l1, _ := b.hop(p, from, via)
			r1 := a.rank(l1, from)
			for _, n := range next {
				oldest := l1.rate.AsOf
				if n.l.rate.AsOf.Before(oldest) {
					oldest = n.l.rate.AsOf
				}
				consider(candidate{worst: max(r1, n.rank), best: min(r1, n.rank), n: 2, oldest: oldest, p1: i, p2: n.p, via: via, l1: l1, l2: n.l})
			}
		}
	}
	if !found {
		return fx.Quote{}, fmt.Errorf("%w: no provider's rates price %s/%s, directly or through a common currency", fx.ErrRateNotFound, from, to)
	}
	if best.n == 1 {
		rule := RuleDirect
		if best.l1.invert {
			rule = RuleInverse
		}
		return b.quote(from, to, rule, "", best.l1), nil
	}
	rule := RuleCross
	if best.p1 != best.p2 {
		rule = RuleCrossProvider
	}
	return b.quote(from, to, rule, best.via, best.l1, best.l2), nil
}
