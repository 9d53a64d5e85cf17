// Package catalog is the list of publishers CES ingests: one declarative
// entry per publisher, with the facts every part of CES names it by (who
// it is, the currency it issues, what it quotes against and how, when it
// publishes, whether it needs a key). It imports no adapter: the API and
// the console need the metadata, only the worker needs the parsers.
// Adding a publisher is one adapter package under internal/provider, one
// entry here and one recording under testdata.
package catalog

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Cadence is how often a publisher publishes.
type Cadence string

// Cadences, as the publishers' metadata names them.
const (
	Daily   Cadence = "daily"
	Weekly  Cadence = "weekly"
	Monthly Cadence = "monthly"
	Hourly  Cadence = "hourly"
	// Fixed: rates that hold until their authority changes them (legal
	// pegs); they are never stale.
	Fixed Cadence = "fixed"
)

// Publisher is one source of rates.
type Publisher struct {
	// Key names the publisher in FX_PROVIDERS, in every stored row and in
	// every answer.
	Key  string
	Name string
	// Country is the ISO 3166-1 alpha-2 code of its seat ("EU" for the
	// ECB; "" for a commercial aggregator).
	Country string
	// Issues is the ISO 4217 code of the currency this institution issues
	// ("" for a compiler of others' rates): the source policy prefers an
	// issuer for its own currency.
	Issues string
	// RateType is the publisher's own name for what it publishes.
	RateType string
	// Pivot is the currency its rates are quoted against; Quoting says
	// how (direction and unit), as its adapter reads them.
	Pivot   string
	Quoting string
	Cadence Cadence
	// Schedule is when CES polls it: 5-field cron expressions in UTC
	// covering the hours after its usual publication.
	Schedule []string
	// CoverageStart is the first date its history serves (YYYY-MM-DD).
	CoverageStart string
	DataURL       string
	TermsURL      string
	// KeyEnv names the variable holding its API key; "" for a keyless one.
	KeyEnv string
}

// Keyless reports whether the publisher serves its rates without a key.
func (p Publisher) Keyless() bool { return p.KeyEnv == "" }

// StaleAfter is how old the publisher's newest rate may grow before it
// is stale, from its cadence: a daily publisher's Friday rate is current
// until Monday's, a weekly one's for a week, a monthly one's for a month.
// Each bound adds a missed publication's slack (a holiday) and an hour.
func (p Publisher) StaleAfter() time.Duration {
	const day = 24 * time.Hour
	switch p.Cadence {
	case Hourly:
		return 3 * time.Hour
	case Weekly:
		return 7*day + 2*day + time.Hour
	case Monthly:
		return 31*day + 7*day + time.Hour
	case Fixed:
		return math.MaxInt64
	}
	// Friday's rate to Monday's, plus a holiday Monday.
	return 4*day + time.Hour
}

// All returns every publisher, ordered by key.
func All() []Publisher {
	out := slices.Clone(publishers)
	slices.SortFunc(out, func(a, b Publisher) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Keys returns every publisher's key, sorted.
func Keys() []string {
	out := make([]string, len(publishers))
	for i, p := range All() {
		out[i] = p.Key
	}
	return out
}

// KeylessKeys returns the keys of the publishers that need no API key,
// sorted.
func KeylessKeys() []string {
	var out []string
	for _, p := range All() {
		if p.Keyless() {
			out = append(out, p.Key)
		}
	}
	return out
}

// Lookup returns the publisher with key. Configuration asks it on the
// request path (each leg's staleness bound), so it is a map read.
func Lookup(key string) (Publisher, bool) {
	p, ok := byKey[key]
	return p, ok
}

// byKey indexes publishers; a key listed twice stops the program at start.
var byKey = func() map[string]Publisher {
	m := make(map[string]Publisher, len(publishers))
	for _, p := range publishers {
		if _, dup := m[p.Key]; dup {
			panic("catalog: publisher " + p.Key + " is listed twice")
		}
		m[p.Key] = p
	}
	return m
}()
