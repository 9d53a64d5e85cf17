package policy

import (
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// DefaultJumpLimit is the relative move beyond which an incoming rate is
// quarantined unless configured otherwise (RATE_JUMP_LIMIT).
var DefaultJumpLimit = decimal.RequireFromString("0.25")

// Comparisons a quarantine names.
const (
	// AgainstPrevious: the same provider's previous released rate of the pair.
	AgainstPrevious = "previous"
	// AgainstProvider: another provider's rate of the pair in force then.
	AgainstProvider = "provider"
)

// Finding is why the gate holds a rate back: the reference it was
// compared with and the relative change it showed.
type Finding struct {
	Against   string
	Reference fx.Rate
	// ReferenceValue is Reference oriented like the incoming rate
	// (inverted when the other provider quotes the pair the other way).
	ReferenceValue decimal.Decimal
	Change         decimal.Decimal
	Limit          decimal.Decimal

	// The consensus and issuer checks compare values of one currency on
	// a common base: Value is the incoming row's value of Currency in On
	// units, ReferenceValue the issuer's or the median's (and Reference,
	// for an issuer, the issuer's row it came from).
	Currency, On string
	Value        decimal.Decimal
	// Median and MAD of the other publishers' values (consensus only),
	// with the MADs and Band parameters the limit came from, and the
	// values compared (the issuer's alone for an issuer finding).
	Median, MAD decimal.Decimal
	MADs, Band  decimal.Decimal
	Votes       []Vote
}

// RelativeChange is |value − ref| ÷ ref, rounded like every derived rate.
func RelativeChange(value, ref decimal.Decimal) decimal.Decimal {
	return fx.DivideRates(value.Sub(ref).Abs(), ref)
}

// Check is the quality gate for one incoming rate. It compares the rate
// with previous (the same provider's newest released rate of the pair
// before it; nil for a first publication) and with others (other
// providers' rates of the pair in force at its publication, either way
// round). The first comparison that moves more than limit is returned;
// ok is false when the rate may be published.
//
// A publisher's rate of a pair holding the currency it issues is never
// compared with others' (issuer names each publisher's currency; nil
// knows none): the issuing authority is the reference for its currency,
// and only its own previous rate can hold it.
func Check(in fx.Rate, previous *fx.Rate, others []fx.Rate, limit decimal.Decimal, issuer func(provider string) string) (Finding, bool) {
	if !in.Value.IsPositive() {
		return Finding{}, false
	}
	try := func(against string, ref fx.Rate) (Finding, bool) {
		v := ref.Value
		if ref.Base == in.Quote && ref.Quote == in.Base {
			v = fx.DivideRates(decimal.NewFromInt(1), ref.Value)
		} else if ref.Base != in.Base || ref.Quote != in.Quote {
			return Finding{}, false // not the same pair
		}
		if !v.IsPositive() {
			return Finding{}, false
		}
		ch := RelativeChange(in.Value, v)
		if ch.GreaterThan(limit) {
			return Finding{Against: against, Reference: ref, ReferenceValue: v, Change: ch, Limit: limit}, true
		}
		return Finding{}, false
	}
	if previous != nil {
		if f, held := try(AgainstPrevious, *previous); held {
			return f, true
		}
	}
	if issuer != nil {
		if mine := issuer(in.Provider); mine != "" && (in.Base == mine || in.Quote == mine) {
			return Finding{}, false
		}
	}
	for _, o := range others {
		if o.Provider == in.Provider {
			continue
		}
		if f, held := try(AgainstProvider, o); held {
			return f, true
		}
	}
	return Finding{}, false
}

// InForce returns the rates of others that were still current when in was
// published: no older, at in's as_of, than their provider's staleness
// bound. A reference its own publisher has long replaced (the ECB's rate
// of 2017 beside an incoming rate of 2026, after a backfill of one and a
// first ingestion of the other) says nothing about in.
func InForce(in fx.Rate, others []fx.Rate, staleAfter func(provider string) time.Duration) []fx.Rate {
	var out []fx.Rate
	for _, o := range others {
		if in.AsOf.Sub(o.AsOf) <= staleAfter(o.Provider) {
			out = append(out, o)
		}
	}
	return out
}

// Held is a rate the gate holds, with the limit it was held under.
type Held struct {
	Rate  fx.Rate
	Limit decimal.Decimal
}

// Cascade decides what follows an operator's release of a held rate:
// later holds the same series' held rates after it, oldest first, each of
// which was compared with the rate before the jump (after a real
// devaluation every later day would stay held). Each in turn is checked
// against the rate released before it, under its own limit; Cascade
// returns how many, from the first, are now within their limit. The
// first that is not stays held, and so do those after it.
func Cascade(released fx.Rate, later []Held) int {
	prev := released
	for i, h := range later {
		if _, held := Check(h.Rate, &prev, nil, h.Limit, nil); held {
			return i
		}
		prev = h.Rate
	}
	return len(later)
}
