// Package gate connects the quality gate's decisions (policy.Check for a
// newly fetched rate, policy.Cascade after an operator releases one) to
// the stores that gather their evidence and record their verdicts, each
// inside its own transaction. Ingestion inserts through Judge; the
// console decides through Cascade. No SQL is here and no policy is in
// the store.
package gate

import (
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/catalog"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/store"
)

// Judge returns the quality gate with band limit (RATE_JUMP_LIMIT), for
// store.Origin: each newly inserted rate is checked against the same
// series' previous released rate and other providers' rates of the pair
// in force then, each no older than its publisher's cadence allows (a
// legal peg only against the previous one). A limit that is not positive
// turns the gate off (nil): configuration never allows one
// (RATE_JUMP_LIMIT must be positive), but tests and benchmarks build
// activities with a zero JumpLimit.
func Judge(limit decimal.Decimal) store.Judge {
	if !limit.IsPositive() {
		return nil
	}
	return func(e store.Evidence) (policy.Finding, bool) {
		if e.Rate.Provider == catalog.PegProvider {
			// A legal peg is the law, not an opinion other publishers can
			// outvote: only a change from the previous peg is held.
			e.Others = nil
		}
		e.Others = policy.InForce(e.Rate, e.Others, staleAfter)
		return policy.Check(e.Rate, e.Previous, e.Others, limit)
	}
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
