package policy

import (
	"strconv"
	"strings"
	"time"

	"ces/internal/catalog"
)

// HealthStatus says whether a publisher publishes as its cadence says.
type HealthStatus string

// Publisher health statuses.
const (
	// Healthy: every publication due so far has arrived, or too few are
	// missing to tell a holiday from a fault.
	Healthy HealthStatus = "healthy"
	// Late: more publications are missing than holidays explain; an
	// operator should look at the publisher and its ingestion.
	Late HealthStatus = "late"
	// Silent: the publisher has published nothing for long enough that its
	// newest rates no longer describe the market: they are answered stale
	// whatever their age bound says.
	Silent HealthStatus = "silent"
)

// HealthRule says when a publisher is late or silent. The catalogue holds
// no holiday calendars, so a daily publisher's missing days are only a
// fault once there are more of them in a row than a holiday accounts for.
// A zero bound never reaches its status (the offline demo, whose
// recordings are years old, turns silence off).
type HealthRule struct {
	// LateAfterDays and SilentAfterDays are the consecutive publication
	// days (Monday to Friday unless the publisher's schedule names other
	// weekdays) without a publication after which a daily publisher is
	// late, and silent.
	LateAfterDays, SilentAfterDays int
	// LateAfterHours and SilentAfterHours are the same for an hourly one.
	LateAfterHours, SilentAfterHours int
	// LateAfterPeriods and SilentAfterPeriods are the weeks (weekly) or
	// months (monthly) whose publication was due and never came after
	// which such a publisher is late, and silent.
	LateAfterPeriods, SilentAfterPeriods int
}

// DefaultHealthRule is the rule without configuration: late after two
// business days, silent after five (a whole working week: no run of public
// holidays at the catalogue's publishers is that long); an hourly
// publisher late after 3 hours (its staleness bound) and silent after a
// day; a weekly or monthly one late when one due publication never came,
// silent when two did not.
var DefaultHealthRule = HealthRule{
	LateAfterDays: 2, SilentAfterDays: 5,
	LateAfterHours: 3, SilentAfterHours: 24,
	LateAfterPeriods: 1, SilentAfterPeriods: 2,
}

// Health is the verdict on one publisher at an instant.
type Health struct {
	Status HealthStatus
	// Expected counts the publications due in the window, Missed those of
	// them CES does not have.
	Expected, Missed int
	// Newest is the as_of of the newest publication at or before the
	// instant judged (zero: none); NewestAge its age then.
	Newest    time.Time
	NewestAge time.Duration
}

// HealthWindow is how far back a check counts missed publications, by
// cadence: five weeks of days, two days of hours, twelve weeks, twelve
// months.
func HealthWindow(c catalog.Cadence, now time.Time) time.Time {
	switch c {
	case catalog.Hourly:
		return now.Add(-48 * time.Hour).Truncate(time.Hour)
	case catalog.Weekly:
		return isoWeekStart(now).AddDate(0, 0, -7*12)
	case catalog.Monthly:
		y, m, _ := now.UTC().Date()
		return time.Date(y, m-12, 1, 0, 0, 0, 0, time.UTC)
	}
	return utcDay(now).AddDate(0, 0, -35)
}

// Judge says how p stands at now, from the as_of of its stored
// publications since from (at least HealthWindow's start) and newest, the
// as_of of its newest stored publication of all (zero: none). Instants
// after now are ignored, so a check can be replayed at any past instant.
//
// Daily: a day is due when it is one of the publisher's weekdays, and is
// missed when it has ended (UTC) without a publication dated that day.
// The status counts the due days after the newest publication up to
// yesterday.
//
// Weekly and monthly publishers publish the previous ISO week's (or
// calendar month's) figures during the following one (the catalogue's
// schedules poll after the period), so the publication of period P is due
// during P+1 and missed once P+1 has ended: a monthly publisher is never
// late inside a month.
//
// Fixed publishers (legal pegs) are always healthy.
func (r HealthRule) Judge(p catalog.Publisher, pubs []time.Time, from, newest, now time.Time) Health {
	var kept []time.Time
	for _, t := range pubs {
		if !t.After(now) && !t.Before(from) {
			kept = append(kept, t)
		}
	}
	if newest.After(now) || newest.IsZero() {
		newest = time.Time{}
		for _, t := range kept {
			if t.After(newest) {
				newest = t
			}
		}
	}
	h := Health{Status: Healthy, Newest: newest}
	if !newest.IsZero() {
		h.NewestAge = max(now.Sub(newest), 0)
	}
	switch p.Cadence {
	case catalog.Fixed:
		return h
	case catalog.Hourly:
		return r.judge(h, periods(from, now, kept, newest, hourStart, nextHour, func(time.Time) bool { return true }, 0), r.LateAfterHours, r.SilentAfterHours)
	case catalog.Weekly:
		return r.judge(h, periods(from, now, kept, newest, isoWeekStart, nextWeek, func(time.Time) bool { return true }, 1), r.LateAfterPeriods, r.SilentAfterPeriods)
	case catalog.Monthly:
		return r.judge(h, periods(from, now, kept, newest, monthStart, nextMonth, func(time.Time) bool { return true }, 1), r.LateAfterPeriods, r.SilentAfterPeriods)
	}
	days := PublicationWeekdays(p)
	return r.judge(h, periods(from, now, kept, newest, utcDay, nextDay, func(d time.Time) bool { return days[d.Weekday()] }, 0), r.LateAfterDays, r.SilentAfterDays)
}

func (r HealthRule) judge(h Health, c counted, late, silent int) Health {
	h.Expected, h.Missed = c.expected, c.missed
	switch {
	case silent > 0 && (h.Newest.IsZero() || c.overdue >= silent):
		h.Status = Silent
	case h.Newest.IsZero() || (late > 0 && c.overdue >= late):
		h.Status = Late
	}
	return h
}

type counted struct{ expected, missed, overdue int }

// periods walks the periods (days, hours, weeks or months: start gives a
// period's first instant, next the following period's) from from's period
// to now's. A period's publication is due when the period is due, and
// missed once the lag periods after it have ended without one dated in
// it. overdue counts the missed periods after newest's.
func periods(from, now time.Time, pubs []time.Time, newest time.Time,
	start func(time.Time) time.Time, next func(time.Time) time.Time, due func(time.Time) bool, lag int,
) counted {
	have := map[time.Time]bool{}
	for _, t := range pubs {
		have[start(t)] = true
	}
	newestPeriod := time.Time{}
	if !newest.IsZero() {
		newestPeriod = start(newest)
	}
	// The last period whose publication should have arrived by now.
	last := start(now)
	for range lag + 1 {
		last = prev(last, start)
	}
	var c counted
	for p := start(from); !p.After(last); p = next(p) {
		if p.Before(from) || !due(p) {
			continue
		}
		c.expected++
		if have[p] {
			continue
		}
		c.missed++
		if p.After(newestPeriod) {
			c.overdue++
		}
	}
	// Periods before the window after the newest publication are overdue
	// too (a publisher silent since before the window).
	if !newestPeriod.IsZero() {
		for p := next(newestPeriod); p.Before(start(from)) && !p.After(last); p = next(p) {
			if due(p) {
				c.overdue++
			}
		}
	}
	return c
}

func prev(p time.Time, start func(time.Time) time.Time) time.Time {
	return start(p.Add(-time.Nanosecond))
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func nextDay(t time.Time) time.Time { return t.AddDate(0, 0, 1) }

func hourStart(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

func nextHour(t time.Time) time.Time { return t.Add(time.Hour) }

// isoWeekStart is the Monday 00:00 UTC starting t's ISO week.
func isoWeekStart(t time.Time) time.Time {
	d := utcDay(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func nextWeek(t time.Time) time.Time { return t.AddDate(0, 0, 7) }

func monthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

func nextMonth(t time.Time) time.Time { return t.AddDate(0, 1, 0) }

// PublicationWeekdays are the weekdays a daily publisher publishes on:
// those its polling schedules name in their day-of-week field (the
// Central Bank of Egypt's 0-4 is Sunday to Thursday), Monday to Friday
// when a schedule polls every day (the catalogue does not say which of
// those days carry a publication).
func PublicationWeekdays(p catalog.Publisher) [7]bool {
	var days [7]bool
	for _, cron := range p.Schedule {
		f := strings.Fields(cron)
		if len(f) != 5 {
			continue
		}
		d, ok := cronWeekdays(f[4])
		if !ok {
			continue
		}
		for i := range days {
			days[i] = days[i] || d[i]
		}
	}
	if days == ([7]bool{}) {
		for d := time.Monday; d <= time.Friday; d++ {
			days[d] = true
		}
	}
	return days
}

// cronWeekdays reads a day-of-week field made of numbers, ranges and
// lists (0 and 7 are Sunday); "*" and anything else say nothing.
func cronWeekdays(field string) ([7]bool, bool) {
	var days [7]bool
	if field == "*" {
		return days, false
	}
	for _, part := range strings.Split(field, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 || a > 7 {
			return days, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b > 7 {
				return days, false
			}
		}
		for d := a; d <= b; d++ {
			days[d%7] = true
		}
	}
	return days, true
}
