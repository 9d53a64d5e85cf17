// Package gate connects the quality gate's decisions (policy.Check for a
// newly fetched rate, policy.Cascade after an operator releases one) to
// the stores that gather their evidence and record their verdicts, each
// inside its own transaction. Ingestion inserts through Judge; the
// console decides through Cascade. No SQL is here and no policy is in
// the store.
package gate

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/catalog"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/store"
)

// Options are the quality gate's parameters.
type Options struct {
	// JumpLimit is RATE_JUMP_LIMIT: the band of the previous-rate and
	// cross-publisher checks. Not positive: the gate is off.
	JumpLimit decimal.Decimal
	// Consensus is the consensus check's parameters (zero: off).
	Consensus policy.Consensus
	// Providers are the configured publishers (FX_PROVIDERS): rates of
	// any other are never weighed. Empty: every publisher.
	Providers []string
	// MaxAge bounds the age of another publisher's rate the
	// cross-publisher check weighs (GATE_REFERENCE_MAX_AGE); zero: each
	// publisher's staleness bound from its cadence.
	MaxAge time.Duration
}

// Judge returns the quality gate with band limit (RATE_JUMP_LIMIT) and
// the default consensus check, weighing every publisher; see
// Options.Judge.
func Judge(limit decimal.Decimal) store.Judge {
	return Options{JumpLimit: limit, Consensus: policy.DefaultConsensus}.Judge()
}

// Judge returns the quality gate for store.Origin: each newly inserted
// rate is checked against the same series' previous released rate, other
// providers' rates of the pair in force then (each no older than
// o.MaxAge, or than its publisher's cadence allows), and the other
// publishers' values of each of its currencies of the same UTC date (the
// issuer's when it published that day, else their median), in that
// order. A legal peg is checked against its previous rate only; an
// issuer's rate of its own currency is never held by others, and holds,
// after the fact, the other publishers' rows of its day that stray from
// it. A limit that is not positive turns the gate off (nil):
// configuration never allows one (RATE_JUMP_LIMIT must be positive), but
// tests and benchmarks build activities with a zero JumpLimit.
func (o Options) Judge() store.Judge {
	if !o.JumpLimit.IsPositive() {
		return nil
	}
	stale := staleAfter
	if o.MaxAge > 0 {
		stale = func(string) time.Duration { return o.MaxAge }
	}
	return func(e store.Evidence) store.Verdict {
		e.Others, e.SameDay = o.configured(e.Others), o.configured(e.SameDay)
		if e.Rate.Provider == catalog.PegProvider {
			// A legal peg is the law, not an opinion other publishers can
			// outvote: only a change from the previous peg is held.
			f, held := policy.Check(e.Rate, e.Previous, nil, o.JumpLimit, issuer)
			return store.Verdict{Held: held, Finding: f}
		}
		e.Others = policy.InForce(e.Rate, e.Others, stale)
		if f, held := policy.Check(e.Rate, e.Previous, e.Others, o.JumpLimit, issuer); held {
			return store.Verdict{Held: true, Finding: f}
		}
		if f, held := policy.CheckConsensus(e.Rate, e.SameDay, issuer, o.Consensus); held {
			return store.Verdict{Held: true, Finding: f}
		}
		var lagging []policy.Lag
		for _, l := range policy.LaggingBehind(e.Rate, e.SameDay, issuer, o.Consensus) {
			if l.Rate.Provider != catalog.PegProvider { // the law is not outvoted, not even by an issuer
				lagging = append(lagging, l)
			}
		}
		return store.Verdict{Lagging: lagging}
	}
}

// configured keeps the rates of configured publishers (all when none is
// named).
func (o Options) configured(rates []fx.Rate) []fx.Rate {
	if len(o.Providers) == 0 {
		return rates
	}
	var out []fx.Rate
	for _, r := range rates {
		if slices.Contains(o.Providers, r.Provider) {
			out = append(out, r)
		}
	}
	return out
}

// issuer is the currency a publisher issues, from the catalogue ("" for a
// compiler, a legal peg or a publisher it does not list).
func issuer(provider string) string {
	if p, ok := catalog.Lookup(provider); ok {
		return p.Issues
	}
	return ""
}

// staleAfter is each publisher's staleness bound from its cadence in the
// catalogue (a daily one's for a provider it does not list).
func staleAfter(provider string) time.Duration {
	if p, ok := catalog.Lookup(provider); ok {
		return p.StaleAfter()
	}
	return catalog.Publisher{Cadence: catalog.Daily}.StaleAfter()
}

// Cascade is policy.Cascade over stored quarantines, for
// store.Quality.DecideQuarantine: each later held rate is judged under
// the limit it was held with.
func Cascade(released fx.Rate, later []store.Quarantine) int {
	held := make([]policy.Held, len(later))
	for i, q := range later {
		held[i] = policy.Held{Rate: q.Rate, Limit: q.JumpLimit}
	}
	return policy.Cascade(released, held)
}
