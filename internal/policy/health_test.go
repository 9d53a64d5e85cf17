package policy

import (
	"testing"
	"time"

	"ces/internal/catalog"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// at is 12:00 UTC on date s.
func at(s string) time.Time { return day(s).Add(12 * time.Hour) }

// weekdaysBetween returns 15:00 UTC of every date from first to last
// that is in days (Monday to Friday when nil).
func weekdaysBetween(first, last string, days []time.Weekday) []time.Time {
	if days == nil {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	var out []time.Time
	for d := day(first); !d.After(day(last)); d = d.AddDate(0, 0, 1) {
		for _, w := range days {
			if d.Weekday() == w {
				out = append(out, d.Add(15*time.Hour))
			}
		}
	}
	return out
}

func newestOf(pubs []time.Time) time.Time {
	var n time.Time
	for _, t := range pubs {
		if t.After(n) {
			n = t
		}
	}
	return n
}

func TestJudgeDaily(t *testing.T) {
	ecb, _ := catalog.Lookup("ecb")
	cbe, _ := catalog.Lookup("cbe") // polls Sunday to Thursday
	tests := []struct {
		name    string
		p       catalog.Publisher
		pubs    []time.Time
		now     time.Time
		status  HealthStatus
		missed  int
		overdue string // what the case shows
	}{
		// 2026-05-01 is a Friday.
		{name: "friday's publication covers the weekend", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-03"), status: Healthy},
		{name: "monday not yet published on monday", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-04"), status: Healthy},
		{name: "one missing day is a holiday", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-05"), status: Healthy, missed: 1},
		{name: "two missing business days are late", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-06"), status: Late, missed: 2},
		{name: "still late on the fourth", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-08"), status: Late, missed: 4},
		{name: "a whole working week is silent", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-05-01", nil), now: at("2026-05-11"), status: Silent, missed: 5},
		{name: "a weekend inside the gap does not count", p: ecb, pubs: weekdaysBetween("2026-03-02", "2026-04-29", nil), now: at("2026-05-04"), status: Late, missed: 2},
		{name: "publishing again is healthy, the gap stays missed", p: ecb,
			pubs: append(weekdaysBetween("2026-03-02", "2026-04-24", nil), weekdaysBetween("2026-05-04", "2026-05-05", nil)...), now: at("2026-05-06"), status: Healthy, missed: 5},
		{name: "an old gap does not make it late", p: ecb,
			pubs: append(append(weekdaysBetween("2026-04-01", "2026-04-02", nil), weekdaysBetween("2026-04-07", "2026-04-30", nil)...), weekdaysBetween("2026-05-04", "2026-05-05", nil)...), now: at("2026-05-06"), status: Healthy, missed: 3},
		{name: "month end on a weekend", p: ecb, pubs: weekdaysBetween("2025-12-01", "2026-01-30", nil), now: at("2026-02-02"), status: Healthy},
		{name: "month end then two business days", p: ecb, pubs: weekdaysBetween("2025-12-01", "2026-01-30", nil), now: at("2026-02-04"), status: Late, missed: 2},
		{name: "a publication in the future is ignored", p: ecb, pubs: append(weekdaysBetween("2026-03-02", "2026-04-30", nil), at("2026-05-20")), now: at("2026-05-06"), status: Late, missed: 3},
		{name: "nothing stored is silent", p: ecb, now: at("2026-05-06"), status: Silent, missed: 25},
		{name: "silent since before the window", p: ecb, pubs: weekdaysBetween("2025-12-01", "2026-01-30", nil), now: at("2026-05-06"), status: Silent, missed: 25},
		{name: "sunday to thursday: friday and saturday are its weekend", p: cbe,
			pubs: weekdaysBetween("2026-03-02", "2026-04-30", []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday}), now: at("2026-05-03"), status: Healthy},
		{name: "sunday to thursday: sunday and monday missing are late", p: cbe,
			pubs: weekdaysBetween("2026-03-02", "2026-04-30", []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday}), now: at("2026-05-05"), status: Late, missed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := HealthWindow(tt.p.Cadence, tt.now)
			h := DefaultHealthRule.Judge(tt.p, tt.pubs, from, newestOf(tt.pubs), tt.now)
			if h.Status != tt.status || h.Missed != tt.missed {
				t.Fatalf("status %s, missed %d (of %d); want %s, %d", h.Status, h.Missed, h.Expected, tt.status, tt.missed)
			}
		})
	}
}

func TestJudgeWithoutSilence(t *testing.T) {
	ecb, _ := catalog.Lookup("ecb")
	sbp, _ := catalog.Lookup("sbp")
	r := DefaultHealthRule
	r.SilentAfterDays, r.SilentAfterHours, r.SilentAfterPeriods = 0, 0, 0
	pubs := weekdaysBetween("2025-12-01", "2026-01-30", nil)
	for _, tt := range []struct {
		name string
		p    catalog.Publisher
		pubs []time.Time
	}{{"daily, months without", ecb, pubs}, {"monthly, months without", sbp, pubs}, {"nothing stored", ecb, nil}} {
		t.Run(tt.name, func(t *testing.T) {
			now := at("2026-06-10")
			if h := r.Judge(tt.p, tt.pubs, HealthWindow(tt.p.Cadence, now), newestOf(tt.pubs), now); h.Status != Late {
				t.Fatalf("status %s, want late", h.Status)
			}
		})
	}
}

func TestJudgeConfiguredBounds(t *testing.T) {
	ecb, _ := catalog.Lookup("ecb")
	pubs := weekdaysBetween("2026-03-02", "2026-05-01", nil)
	r := DefaultHealthRule
	r.LateAfterDays, r.SilentAfterDays = 1, 3
	for _, tt := range []struct {
		now    string
		status HealthStatus
	}{{"2026-05-04", Healthy}, {"2026-05-05", Late}, {"2026-05-06", Late}, {"2026-05-07", Silent}} {
		t.Run(tt.now, func(t *testing.T) {
			now := at(tt.now)
			if h := r.Judge(ecb, pubs, HealthWindow(ecb.Cadence, now), newestOf(pubs), now); h.Status != tt.status {
				t.Fatalf("status %s, want %s", h.Status, tt.status)
			}
		})
	}
}

func TestJudgeWeeklyMonthlyFixedHourly(t *testing.T) {
	fred, _ := catalog.Lookup("fred")
	sbp, _ := catalog.Lookup("sbp")
	pegs, _ := catalog.Lookup(catalog.PegProvider)
	oxr, _ := catalog.Lookup("openexchangerates")
	// FRED's H.10: the business days of a week, published the Monday after.
	fredTo := func(last string) []time.Time { return weekdaysBetween("2025-09-01", last, nil) }
	// SBP: the business days of a month, published in the following month.
	sbpTo := func(last string) []time.Time { return weekdaysBetween("2025-01-01", last, nil) }
	hourly := func(from, to time.Time) []time.Time {
		var out []time.Time
		for t := from; !t.After(to); t = t.Add(time.Hour) {
			out = append(out, t)
		}
		return out
	}
	tests := []struct {
		name   string
		p      catalog.Publisher
		pubs   []time.Time
		now    time.Time
		status HealthStatus
		missed int
	}{
		// 2026-03-13 is a Friday; its week is published on Monday 16th.
		{name: "weekly: the week after, before its publication", p: fred, pubs: fredTo("2026-03-06"), now: at("2026-03-16"), status: Healthy},
		{name: "weekly: the due week passes on sunday", p: fred, pubs: fredTo("2026-03-06"), now: at("2026-03-22"), status: Healthy},
		{name: "weekly: a whole week passed without the publication", p: fred, pubs: fredTo("2026-03-06"), now: at("2026-03-23"), status: Late, missed: 1},
		{name: "weekly: two due weeks passed", p: fred, pubs: fredTo("2026-03-06"), now: at("2026-03-30"), status: Silent, missed: 2},
		{name: "weekly: on time", p: fred, pubs: fredTo("2026-03-13"), now: at("2026-03-19"), status: Healthy},
		// April 2026's figures are published between 15 and 28 May.
		{name: "monthly: on the first of the month", p: sbp, pubs: sbpTo("2026-03-31"), now: at("2026-05-01"), status: Healthy},
		{name: "monthly: on the last day of the month", p: sbp, pubs: sbpTo("2026-03-31"), now: day("2026-05-31").Add(23*time.Hour + 59*time.Minute), status: Healthy},
		{name: "monthly: the month ended without april", p: sbp, pubs: sbpTo("2026-03-31"), now: at("2026-06-01"), status: Late, missed: 1},
		{name: "monthly: two months", p: sbp, pubs: sbpTo("2026-03-31"), now: at("2026-07-01"), status: Silent, missed: 2},
		{name: "monthly: a february month end", p: sbp, pubs: sbpTo("2026-01-30"), now: day("2026-03-31").Add(23 * time.Hour), status: Healthy},
		{name: "fixed: never late", p: pegs, pubs: []time.Time{day("1983-10-17")}, now: at("2026-05-06"), status: Healthy},
		{name: "hourly: on time", p: oxr, pubs: hourly(at("2026-05-04"), at("2026-05-06").Add(-time.Hour)), now: at("2026-05-06").Add(30 * time.Minute), status: Healthy},
		{name: "hourly: three hours missing", p: oxr, pubs: hourly(at("2026-05-04"), at("2026-05-06").Add(-4*time.Hour)), now: at("2026-05-06").Add(30 * time.Minute), status: Late, missed: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := HealthWindow(tt.p.Cadence, tt.now)
			h := DefaultHealthRule.Judge(tt.p, tt.pubs, from, newestOf(tt.pubs), tt.now)
			if h.Status != tt.status || h.Missed != tt.missed {
				t.Fatalf("status %s, missed %d (of %d); want %s, %d", h.Status, h.Missed, h.Expected, tt.status, tt.missed)
			}
		})
	}
}

// TestMonthlyNeverLateInsideItsMonth walks every hour of a year of a
// monthly publisher that publishes the previous month's figures on the
// 20th: it is healthy throughout.
func TestMonthlyNeverLateInsideItsMonth(t *testing.T) {
	sbp, _ := catalog.Lookup("sbp")
	var pubs []time.Time
	for m := day("2025-01-01"); m.Before(day("2027-01-01")); m = m.AddDate(0, 1, 0) {
		pubs = append(pubs, weekdaysBetween(m.Format(time.DateOnly), m.AddDate(0, 1, -1).Format(time.DateOnly), nil)...)
	}
	for now := day("2026-01-01"); now.Before(day("2027-01-01")); now = now.Add(time.Hour) {
		// What was published by now: last month's figures from the 20th on.
		cut := monthStart(now).AddDate(0, -1, 0)
		if now.Day() >= 20 {
			cut = monthStart(now)
		}
		var known []time.Time
		for _, p := range pubs {
			if p.Before(cut) {
				known = append(known, p)
			}
		}
		if h := DefaultHealthRule.Judge(sbp, known, HealthWindow(sbp.Cadence, now), newestOf(known), now); h.Status != Healthy || h.Missed != 0 {
			t.Fatalf("at %s: %s, missed %d", now, h.Status, h.Missed)
		}
	}
}

func TestPublicationWeekdays(t *testing.T) {
	tests := []struct {
		schedule []string
		want     []time.Weekday
	}{
		{[]string{"10 14-17 * * 1-5"}, []time.Weekday{1, 2, 3, 4, 5}},
		{[]string{"*/30 15-17 * * 0-4"}, []time.Weekday{0, 1, 2, 3, 4}},
		{[]string{"*/30 5-7 * * *"}, []time.Weekday{1, 2, 3, 4, 5}},
		{[]string{"0 9 * * 1,3,5-7"}, []time.Weekday{0, 1, 3, 5, 6}},
		{nil, []time.Weekday{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(stringsOf(tt.schedule), func(t *testing.T) {
			got := PublicationWeekdays(catalog.Publisher{Cadence: catalog.Daily, Schedule: tt.schedule})
			var want [7]bool
			for _, d := range tt.want {
				want[d] = true
			}
			if got != want {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func stringsOf(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[0]
}
