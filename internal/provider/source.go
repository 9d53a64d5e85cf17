package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"ces/internal/fx"
)

// Source is a provider adapter as ingestion uses it.
type Source interface {
	Name() string
	// Latest returns the provider's newest publication: one or more RateSets
	// (the CBN publishes one set per foreign currency, all against NGN).
	Latest(ctx context.Context) ([]fx.RateSet, error)
	// History returns every publication with a publication DATE in [from, to]
	// (dates inclusive, UTC calendar days of as_of), oldest first, using as
	// few requests as the provider allows: the ECB history file once, the
	// CBN array once, one call per day for Open Exchange Rates with at most
	// a configured number in flight. Days the provider did not publish are
	// absent (no weekend carry-forward).
	History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error)
}

// Date returns t's calendar date (year, month and day as t's own location
// reads them) as midnight UTC. History bounds are dates: a caller passing
// midnight in Lagos means that Lagos date, not the UTC day before it.
func Date(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// CheckRange rejects a History range that is unset or reversed; repeating
// such a request cannot help, so the error is permanent.
func CheckRange(name string, from, to time.Time) error {
	if from.IsZero() || to.IsZero() {
		return Permanent(TypeRequestRejected, fmt.Errorf("provider %s: history needs both a from and a to date", name))
	}
	if Date(to).Before(Date(from)) {
		return Permanent(TypeRequestRejected, fmt.Errorf("provider %s: history from %s is after to %s",
			name, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	}
	return nil
}

// Days returns every calendar date from from's date to to's date,
// inclusive, as midnight UTC; none when to is before from.
func Days(from, to time.Time) []time.Time {
	var days []time.Time
	for d, end := Date(from), Date(to); !d.After(end); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	return days
}

// Between returns the sets whose as_of falls, as a UTC calendar date,
// within [from, to] (dates inclusive, see Date), sorted oldest first and,
// within one as_of, by base. sets is not modified.
func Between(sets []fx.RateSet, from, to time.Time) []fx.RateSet {
	first, last := Date(from), Date(to)
	out := make([]fx.RateSet, 0, len(sets))
	for _, s := range sets {
		d := Date(s.AsOf.UTC())
		if !d.Before(first) && !d.After(last) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].AsOf.Equal(out[j].AsOf) {
			return out[i].AsOf.Before(out[j].AsOf)
		}
		return out[i].Base < out[j].Base
	})
	return out
}

// Newest returns the sets of sets that share the latest as_of, in their
// order: a Latest that read a range keeps its last publication. It
// returns none for none.
func Newest(sets []fx.RateSet) []fx.RateSet {
	var last time.Time
	for _, s := range sets {
		if s.AsOf.After(last) {
			last = s.AsOf
		}
	}
	var out []fx.RateSet
	for _, s := range sets {
		if s.AsOf.Equal(last) {
			out = append(out, s)
		}
	}
	return out
}

// Weekdays is the History of a publisher that serves one date per request
// and never publishes on a weekend: it asks get for each Monday to Friday
// of [from, to] and keeps each publication once (an answer for a holiday
// may repeat the day before's), returning what falls in the range, as
// Between sorts it. A day get answers TypeNoRatesForDate is a day without
// a publication; any other error ends the history.
func Weekdays(ctx context.Context, name string, from, to time.Time, get func(ctx context.Context, day time.Time) ([]fx.RateSet, error)) ([]fx.RateSet, error) {
	if err := CheckRange(name, from, to); err != nil {
		return nil, err
	}
	type key struct {
		asOf time.Time
		base string
	}
	var all []fx.RateSet
	seen := map[key]bool{}
	for _, day := range Days(from, to) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		sets, err := get(ctx, day)
		var pe *PermanentError
		if errors.As(err, &pe) && pe.Type == TypeNoRatesForDate {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if k := (key{s.AsOf, s.Base}); !seen[k] {
				seen[k] = true
				all = append(all, s)
			}
		}
	}
	return Between(all, from, to), nil
}
