package policy

import (
	"errors"
	"testing"
	"time"

	"ces/internal/fx"
)

// TestPrice pins the freshness and review rule of the source policy on
// ECB (EUR base) and CBN (NGN quote) rows shaped like the offline demo's:
// ECB rows from 2017 beside CBN rows from May 2026.
func TestPrice(t *testing.T) {
	ecbDay := time.Date(2017, 3, 10, 15, 0, 0, 0, time.UTC)
	cbnDay := time.Date(2026, 5, 21, 16, 0, 0, 0, time.UTC)
	rows := []fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1.0606", ecbDay),
		rate(2, "ecb", "EUR", "JPY", "121.66", ecbDay),
		rate(3, "ecb", "EUR", "SEK", "9.5250", ecbDay),
		rate(10, "cbn", "USD", "NGN", "1371.8079", cbnDay),
		rate(11, "cbn", "EUR", "NGN", "1590.1997", cbnDay),
		rate(12, "cbn", "JPY", "NGN", "8.7401", cbnDay),
	}
	bound := func(string) time.Duration { return 97 * time.Hour }
	prio := []string{"ecb", "cbn"}
	tests := []struct {
		name      string
		at        time.Time
		held      map[Series]time.Time
		silent    map[string]time.Time
		from, to  string
		only      string
		prio      []string
		provider  string
		rule      string
		legs      []int64
		stale     bool
		review    bool
		notPriced bool
	}{
		{name: "both fresh: priority decides", at: cbnDay.Add(time.Hour), from: "USD", to: "EUR",
			// at cbnDay+1h the ECB's 2017 rows are stale, so a fresh ECB needs its own instant
			provider: "cbn", rule: RuleCross, legs: []int64{10, 11}},
		{name: "in 2017 the ECB is fresh and first in priority", at: ecbDay.Add(time.Hour), from: "USD", to: "EUR",
			provider: "ecb", rule: RuleInverse, legs: []int64{1}},
		{name: "a stale direct rate never outranks a fresh cross", at: cbnDay.Add(24 * time.Hour), from: "EUR", to: "JPY",
			provider: "cbn", rule: RuleCross, legs: []int64{11, 12}},
		{name: "every source stale: the newest publication prices", at: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), from: "USD", to: "EUR",
			provider: "cbn", rule: RuleCross, legs: []int64{10, 11}, stale: true},
		{name: "every source stale, only one can price", at: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), from: "EUR", to: "SEK",
			provider: "ecb", rule: RuleDirect, legs: []int64{3}, stale: true},
		{name: "stale newest first across providers", at: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), from: "SEK", to: "NGN",
			provider: "ecb+cbn", rule: RuleCrossProvider, legs: []int64{3, 11}, stale: true},
		{name: "a pinned stale provider answers stale", at: cbnDay.Add(time.Hour), from: "EUR", to: "USD", only: "ecb",
			provider: "ecb", rule: RuleDirect, legs: []int64{1}, stale: true},
		{name: "held series yields to a stale source", at: cbnDay.Add(time.Hour), from: "USD", to: "NGN",
			held:     map[Series]time.Time{{"cbn", "USD", "NGN"}: cbnDay.Add(time.Hour)},
			provider: "ecb+cbn", rule: RuleCrossProvider, legs: []int64{1, 11}, stale: true},
		{name: "a held backfill older than the released rate is no review", at: cbnDay.Add(time.Hour), from: "USD", to: "NGN",
			held:     map[Series]time.Time{{"cbn", "USD", "NGN"}: cbnDay.Add(-24 * time.Hour)},
			provider: "cbn", rule: RuleDirect, legs: []int64{10}},
		{name: "a silent publisher's rate is stale however young", at: cbnDay.Add(time.Hour), from: "USD", to: "NGN",
			silent:   map[string]time.Time{"cbn": cbnDay.Add(30 * time.Minute)},
			provider: "cbn", rule: RuleDirect, legs: []int64{10}, stale: true},
		{name: "a fresh source prices before a silent one", at: ecbDay.Add(time.Hour), from: "USD", to: "JPY", prio: []string{"cbn", "ecb"},
			silent:   map[string]time.Time{"cbn": ecbDay},
			provider: "ecb", rule: RuleCross, legs: []int64{1, 2}},
		{name: "silence found later does not reach back", at: cbnDay.Add(time.Hour), from: "USD", to: "NGN",
			silent:   map[string]time.Time{"cbn": cbnDay.Add(2 * time.Hour)},
			provider: "cbn", rule: RuleDirect, legs: []int64{10}},
		{name: "unpriceable stays not found", at: cbnDay, from: "USD", to: "CHF", notPriced: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBooks(rows, Standing{At: tt.at, StaleAfter: bound, Held: tt.held, Silent: tt.silent}, nil)
			order := prio
			if tt.prio != nil {
				order = tt.prio
			}
			p, err := b.Price(tt.from, tt.to, order, tt.only)
			if tt.notPriced {
				if !errors.Is(err, fx.ErrRateNotFound) {
					t.Fatalf("err = %v, want rate not found", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var legs []int64
			for _, l := range p.Legs {
				legs = append(legs, l.ID)
			}
			if p.Provider != tt.provider || p.Rule != tt.rule || !equalIDs(legs, tt.legs) || p.Stale != tt.stale || p.UnderReview != tt.review {
				t.Errorf("got %s %s legs %v stale %v review %v; want %s %s legs %v stale %v review %v",
					p.Provider, p.Rule, legs, p.Stale, p.UnderReview, tt.provider, tt.rule, tt.legs, tt.stale, tt.review)
			}
		})
	}
}

// TestPriceHeld pins "held means not priced" on sources that are all
// fresh: the ECB publishes at 15:00 UTC and the CBN at 16:00 UTC.
func TestPriceHeld(t *testing.T) {
	ecbDay := time.Date(2026, 5, 21, 15, 0, 0, 0, time.UTC)
	cbnDay := ecbDay.Add(time.Hour)
	now := cbnDay.Add(time.Hour)
	rows := []fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1.1592", ecbDay),
		rate(2, "ecb", "EUR", "JPY", "184.53", ecbDay),
		rate(10, "cbn", "USD", "NGN", "1371.8079", cbnDay),
		rate(11, "cbn", "EUR", "NGN", "1590.1997", cbnDay),
		rate(12, "cbn", "JPY", "NGN", "8.6176", cbnDay),
	}
	jpyHeld := map[Series]time.Time{{"ecb", "EUR", "JPY"}: ecbDay.Add(24 * time.Hour)}
	allNGNHeld := map[Series]time.Time{
		{"cbn", "USD", "NGN"}: cbnDay.Add(time.Minute), {"cbn", "EUR", "NGN"}: cbnDay.Add(time.Minute), {"cbn", "JPY", "NGN"}: cbnDay.Add(time.Minute),
	}
	prio := []string{"ecb", "cbn"}
	tests := []struct {
		name           string
		held           map[Series]time.Time
		from, to, only string
		provider, rule string
		legs           []int64
		review         bool
	}{
		{name: "nothing held: priority", from: "EUR", to: "JPY", provider: "ecb", rule: RuleDirect, legs: []int64{2}},
		{name: "held series yields to another publisher's cross", held: jpyHeld, from: "EUR", to: "JPY",
			provider: "cbn", rule: RuleCross, legs: []int64{11, 12}},
		{name: "a cross through the held series yields too", held: jpyHeld, from: "USD", to: "JPY",
			provider: "cbn", rule: RuleCross, legs: []int64{10, 12}},
		{name: "pinned to the held series: last released, under review", held: jpyHeld, from: "EUR", to: "JPY", only: "ecb",
			provider: "ecb", rule: RuleDirect, legs: []int64{2}, review: true},
		{name: "nothing else can price: under review", held: allNGNHeld, from: "JPY", to: "NGN",
			provider: "cbn", rule: RuleDirect, legs: []int64{12}, review: true},
		{name: "another pair is not held", held: allNGNHeld, from: "USD", to: "JPY",
			provider: "ecb", rule: RuleCross, legs: []int64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewBooks(rows, Standing{At: now, StaleAfter: func(string) time.Duration { return 97 * time.Hour }, Held: tt.held}, nil).
				Price(tt.from, tt.to, prio, tt.only)
			if err != nil {
				t.Fatal(err)
			}
			var legs []int64
			for _, l := range p.Legs {
				legs = append(legs, l.ID)
			}
			if p.Provider != tt.provider || p.Rule != tt.rule || !equalIDs(legs, tt.legs) || p.Stale || p.UnderReview != tt.review {
				t.Errorf("got %s %s legs %v stale %v review %v; want %s %s legs %v review %v",
					p.Provider, p.Rule, legs, p.Stale, p.UnderReview, tt.provider, tt.rule, tt.legs, tt.review)
			}
		})
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNewest(t *testing.T) {
	b := NewBook([]fx.Rate{
		rate(1, "ecb", "EUR", "USD", "1", t0.Add(-48*time.Hour)),
		rate(2, "cbn", "USD", "NGN", "1", t0),
		rate(3, "boe", "GBP", "USD", "1", t0),
		rate(4, "ecb", "EUR", "GBP", "1", t0.Add(-time.Hour)),
	})
	got := b.Newest()
	want := []string{"boe", "cbn", "ecb"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Newest() = %v, want %v", got, want)
	}
}

// TestPriceStaleByThePairsOwnAge: among stale sources what counts is the
// age of the legs that price the pair, not how recently a provider
// published something else.
func TestPriceStaleByThePairsOwnAge(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	rows := []fx.Rate{
		rate(1, "oxr", "USD", "EUR", "0.86", now.Add(-6*24*time.Hour)), // oxr still publishes EUR…
		rate(2, "oxr", "USD", "VES", "3.5", now.AddDate(-9, 0, 0)),     // …but its VES is from 2017
		rate(3, "bcv", "USD", "VES", "240.5", now.Add(-10*24*time.Hour)),
	}
	p, err := NewBooks(rows, Standing{At: now, StaleAfter: func(string) time.Duration { return 97 * time.Hour }}, nil).
		Price("USD", "VES", []string{"oxr", "bcv"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Provider != "bcv" || !p.Stale || p.Legs[0].ID != 3 {
		t.Fatalf("got %s legs %v stale %v, want bcv's 10-day-old row, stale", p.Provider, p.Legs, p.Stale)
	}
}
