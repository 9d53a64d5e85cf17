package policy

import (
	"slices"
	"testing"
	"time"

	"ces/internal/fx"
)

// TestFinal pins when a fetched row may be stored: once the instant it is
// dated (its publisher's publication time) has passed at the fetch.
func TestFinal(t *testing.T) {
	// The CBN dates day D 17:00 in Lagos, 16:00 UTC.
	cbnDay := time.Date(2026, 5, 21, 16, 0, 0, 0, time.UTC)
	oxrHour := time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		asOf, fetchedAt time.Time
		want            bool
	}{
		{"CBN polled in the morning: provisional", cbnDay, time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC), false},
		{"CBN polled a second before its publication", cbnDay, cbnDay.Add(-time.Second), false},
		{"CBN polled at its publication instant", cbnDay, cbnDay, true},
		{"CBN polled in the afternoon", cbnDay, time.Date(2026, 5, 21, 16, 20, 0, 0, time.UTC), true},
		{"the previous day, polled the next morning", cbnDay.AddDate(0, 0, -1), time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC), true},
		{"a row dated tomorrow", cbnDay.AddDate(0, 0, 1), cbnDay.Add(time.Hour), false},
		{"Open Exchange Rates: its timestamp is the instant, final at once", oxrHour, oxrHour.Add(3 * time.Minute), true},
		{"a backfilled past day", time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC), cbnDay, true},
		{"zones do not matter, instants do", cbnDay.In(time.FixedZone("WAT", 3600)), cbnDay.Add(-time.Minute).In(time.FixedZone("X", -5*3600)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Final(tt.asOf, tt.fetchedAt); got != tt.want {
				t.Fatalf("Final(%s, %s) = %v, want %v", tt.asOf, tt.fetchedAt, got, tt.want)
			}
		})
	}
}

// TestSplitFinal keeps a payload's final days and defers the others.
func TestSplitFinal(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 5, day, 16, 0, 0, 0, time.UTC) }
	sets := []fx.RateSet{
		{Base: "USD", AsOf: d(21)}, {Base: "EUR", AsOf: d(21)},
		{Base: "USD", AsOf: d(20)}, {Base: "EUR", AsOf: d(20)},
		{Base: "USD", AsOf: d(22)},
	}
	names := func(sets []fx.RateSet) []string {
		var out []string
		for _, s := range sets {
			out = append(out, s.Base+"@"+s.AsOf.Format(time.DateOnly))
		}
		return out
	}
	tests := []struct {
		name            string
		at              time.Time
		final, notFinal []string
	}{
		{"morning of the 21st", time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC),
			[]string{"USD@2026-05-20", "EUR@2026-05-20"},
			[]string{"USD@2026-05-21", "EUR@2026-05-21", "USD@2026-05-22"}},
		{"afternoon of the 21st", time.Date(2026, 5, 21, 16, 20, 0, 0, time.UTC),
			[]string{"USD@2026-05-21", "EUR@2026-05-21", "USD@2026-05-20", "EUR@2026-05-20"},
			[]string{"USD@2026-05-22"}},
		{"long after", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
			names(sets), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			final, notFinal := SplitFinal(sets, tt.at)
			if !slices.Equal(names(final), tt.final) || !slices.Equal(names(notFinal), tt.notFinal) {
				t.Fatalf("SplitFinal = %v, %v; want %v, %v", names(final), names(notFinal), tt.final, tt.notFinal)
			}
		})
	}
}
