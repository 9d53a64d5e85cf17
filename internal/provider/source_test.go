package provider_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

func TestBetween(t *testing.T) {
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	// Newest first, as the parsers return them.
	sets := []fx.RateSet{
		{Base: "USD", AsOf: at("2026-05-21T16:00:00Z")},
		{Base: "EUR", AsOf: at("2026-05-21T16:00:00Z")},
		{Base: "USD", AsOf: at("2026-05-20T23:59:59Z")},
		{Base: "USD", AsOf: at("2026-05-20T00:00:00Z")},
		{Base: "USD", AsOf: at("2026-05-19T16:00:00+01:00")}, // 15:00 UTC
		{Base: "USD", AsOf: at("2026-05-19T00:30:00+01:00")}, // 2026-05-18 23:30 UTC
	}
	lagos := time.FixedZone("WAT", 3600)
	tests := []struct {
		name     string
		from, to time.Time
		want     string // base@as_of UTC, in order
	}{
		{"all, oldest first then by base", at("2026-05-01T00:00:00Z"), at("2026-05-31T00:00:00Z"),
			"USD@2026-05-18T23:30:00Z USD@2026-05-19T15:00:00Z USD@2026-05-20T00:00:00Z USD@2026-05-20T23:59:59Z EUR@2026-05-21T16:00:00Z USD@2026-05-21T16:00:00Z"},
		{"one UTC date, both ends of it", at("2026-05-20T00:00:00Z"), at("2026-05-20T00:00:00Z"),
			"USD@2026-05-20T00:00:00Z USD@2026-05-20T23:59:59Z"},
		{"as_of is read as a UTC date", at("2026-05-19T00:00:00Z"), at("2026-05-19T00:00:00Z"),
			"USD@2026-05-19T15:00:00Z"},
		{"bounds are their own calendar dates", time.Date(2026, 5, 21, 0, 0, 0, 0, lagos), time.Date(2026, 5, 21, 0, 0, 0, 0, lagos),
			"EUR@2026-05-21T16:00:00Z USD@2026-05-21T16:00:00Z"},
		{"time of day of the bounds ignored", at("2026-05-21T23:00:00Z"), at("2026-05-21T01:00:00Z"),
			"EUR@2026-05-21T16:00:00Z USD@2026-05-21T16:00:00Z"},
		{"none", at("2026-06-01T00:00:00Z"), at("2026-06-30T00:00:00Z"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range provider.Between(sets, tt.from, tt.to) {
				got = append(got, s.Base+"@"+s.AsOf.UTC().Format(time.RFC3339))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Fatalf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
	if sets[0].Base != "USD" || !sets[0].AsOf.Equal(at("2026-05-21T16:00:00Z")) {
		t.Fatal("Between reordered its input")
	}
}

func TestDaysAndCheckRange(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		from, to time.Time
		days     int
		wantType string
	}{
		{"one day", d("2026-05-21"), d("2026-05-21"), 1, ""},
		{"across a month end", d("2026-01-30"), d("2026-02-02"), 4, ""},
		{"across a DST change is still whole days", time.Date(2026, 3, 28, 0, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 3, 30, 0, 0, 0, 0, time.FixedZone("CEST", 7200)), 3, ""},
		{"leap year", d("2028-02-28"), d("2028-03-01"), 3, ""},
		{"reversed", d("2026-05-21"), d("2026-05-20"), 0, provider.TypeRequestRejected},
		{"zero from", time.Time{}, d("2026-05-20"), 0, provider.TypeRequestRejected},
		{"zero to", d("2026-05-20"), time.Time{}, 0, provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := provider.CheckRange("test", tt.from, tt.to)
			if tt.wantType != "" {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType {
					t.Fatalf("err = %v, want %s", err, tt.wantType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			days := provider.Days(tt.from, tt.to)
			if len(days) != tt.days {
				t.Fatalf("days = %v, want %d", days, tt.days)
			}
			for _, day := range days {
				if day.Location() != time.UTC || day.Hour() != 0 {
					t.Fatalf("day %s is not midnight UTC", day)
				}
			}
		})
	}
}

func TestNewest(t *testing.T) {
	day := time.Date(2026, 3, 19, 14, 0, 0, 0, time.UTC)
	set := func(base string, asOf time.Time) fx.RateSet { return fx.RateSet{Base: base, AsOf: asOf} }
	tests := []struct {
		name string
		in   []fx.RateSet
		want []string
	}{
		{"none", nil, nil},
		{"the last day's sets, in order", []fx.RateSet{set("USD", day.Add(-24*time.Hour)), set("EUR", day), set("GBP", day)}, []string{"EUR", "GBP"}},
		{"unsorted input", []fx.RateSet{set("EUR", day), set("USD", day.Add(-24*time.Hour)), set("GBP", day)}, []string{"EUR", "GBP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range provider.Newest(tt.in) {
				got = append(got, s.Base)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Newest = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWeekdays(t *testing.T) {
	mon := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	var asked []string
	get := func(_ context.Context, day time.Time) ([]fx.RateSet, error) {
		asked = append(asked, day.Format("Mon"))
		switch day.Weekday() {
		case time.Wednesday: // a holiday: the answer repeats Tuesday's
			return []fx.RateSet{{Base: "USD", AsOf: mon.AddDate(0, 0, 1)}}, nil
		case time.Thursday:
			return nil, provider.Permanent(provider.TypeNoRatesForDate, errors.New("none"))
		}
		return []fx.RateSet{{Base: "USD", AsOf: day}, {Base: "EUR", AsOf: day}}, nil
	}
	sets, err := provider.Weekdays(context.Background(), "x", mon, mon.AddDate(0, 0, 6), get)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(asked, ","); got != "Mon,Tue,Wed,Thu,Fri" {
		t.Errorf("asked %s, want the five weekdays once each", got)
	}
	var got []string
	for _, s := range sets {
		got = append(got, s.AsOf.Format("Mon")+" "+s.Base)
	}
	if want := "Mon EUR,Mon USD,Tue EUR,Tue USD,Fri EUR,Fri USD"; strings.Join(got, ",") != want {
		t.Errorf("sets = %s, want %s", strings.Join(got, ","), want)
	}
	boom := errors.New("boom")
	if _, err := provider.Weekdays(context.Background(), "x", mon, mon, func(context.Context, time.Time) ([]fx.RateSet, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the day's failure", err)
	}
	if _, err := provider.Weekdays(context.Background(), "x", mon, mon.AddDate(0, 0, -1), get); err == nil {
		t.Error("a reversed range was accepted")
	}
}
