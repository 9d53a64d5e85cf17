package policy

import (
	"time"

	"ces/internal/fx"
)

// Final reports whether a publication dated asOf was final when it was
// fetched at fetchedAt. Every adapter dates a publication at the instant
// its publisher makes it final (the catalogue entry's adapter's
// PublicationTime, 16:00 UTC for the CBN; the payload's own instant where
// the publisher sends one, as Open Exchange Rates does), so a row fetched
// before its as_of is a provisional figure (a morning answer for the
// day), or one dated in the future, and is not stored: the first row
// stored for a day is the one CES keeps. A row fetched at or after its
// as_of is final.
func Final(asOf, fetchedAt time.Time) bool {
	return !asOf.After(fetchedAt)
}

// SplitFinal separates the sets of one fetch into those final at
// fetchedAt and those not yet (see Final), each in the given order.
// Other days of the same payload are kept whatever one day's standing.
func SplitFinal(sets []fx.RateSet, fetchedAt time.Time) (final, notFinal []fx.RateSet) {
	for _, s := range sets {
		if Final(s.AsOf, fetchedAt) {
			final = append(final, s)
		} else {
			notFinal = append(notFinal, s)
		}
	}
	return final, notFinal
}
