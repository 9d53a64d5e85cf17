package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ces/internal/provider"
	"ces/internal/provider/file"
)

var _ provider.Source = (*file.Client)(nil)

func TestLatest(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		base     string
		rates    int
		asOf     time.Time
		wantType string
	}{
		{"ecb daily", "../../../testdata/ecb/eurofxref-daily-2014-06-10.xml", "EUR", 32, time.Date(2014, 6, 10, 14, 0, 0, 0, time.UTC), ""},
		{"ecb history, newest", "../../../testdata/ecb/eurofxref-hist-90d-2017.xml", "EUR", 31, time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC), ""},
		{"oxr", "../../../testdata/oxr/latest-2022-09-01.json", "USD", 163, time.Unix(1662001200, 0).UTC(), ""},
		{"neither format", "../../../testdata/README.md", "", 0, time.Time{}, provider.TypeInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := file.NewClient(tt.path).Latest(context.Background())
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
			if len(sets) != 1 {
				t.Fatalf("got %d sets, want 1", len(sets))
			}
			if set := sets[0]; set.Provider != "file" || set.Base != tt.base || len(set.Rates) != tt.rates || !set.AsOf.Equal(tt.asOf) {
				t.Fatalf("got %s/%s %d rates at %s", set.Provider, set.Base, len(set.Rates), set.AsOf)
			}
		})
	}
}

// TestHistoryOneDay asks for single days: a day the file holds gives that
// day's set, a day it does not (a weekend, a day before the data) gives
// none, never an earlier day's rates.
func TestHistoryOneDay(t *testing.T) {
	const hist = "../../../testdata/ecb/eurofxref-hist-90d-2017.xml"
	const latest = "../../../testdata/oxr/latest-2022-09-01.json"
	tests := []struct {
		name  string
		path  string
		day   time.Time
		base  string
		rates int
		asOf  time.Time // zero: no set that day
	}{
		{"ecb history, a working day", hist, time.Date(2017, 1, 13, 0, 0, 0, 0, time.UTC), "EUR", 31, time.Date(2017, 1, 13, 15, 0, 0, 0, time.UTC)},
		{"ecb history, a sunday is empty", hist, time.Date(2017, 1, 15, 0, 0, 0, 0, time.UTC), "", 0, time.Time{}},
		{"ecb history, before its first day is empty", hist, time.Date(2016, 12, 4, 0, 0, 0, 0, time.UTC), "", 0, time.Time{}},
		{"oxr on its date", latest, time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC), "USD", 163, time.Unix(1662001200, 0).UTC()},
		{"oxr before its date is empty", latest, time.Date(2022, 8, 31, 0, 0, 0, 0, time.UTC), "", 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := file.NewClient(tt.path).History(context.Background(), tt.day, tt.day)
			if err != nil {
				t.Fatal(err)
			}
			if tt.asOf.IsZero() {
				if len(sets) != 0 {
					t.Fatalf("got %d sets, first at %s; want none", len(sets), sets[0].AsOf)
				}
				return
			}
			if len(sets) != 1 {
				t.Fatalf("got %d sets, want 1", len(sets))
			}
			if set := sets[0]; set.Provider != "file" || set.Base != tt.base || len(set.Rates) != tt.rates || !set.AsOf.Equal(tt.asOf) {
				t.Fatalf("got %s/%s %d rates at %s", set.Provider, set.Base, len(set.Rates), set.AsOf)
			}
		})
	}
}

func TestMissingFileIsRetryable(t *testing.T) {
	_, err := file.NewClient(filepath.Join(t.TempDir(), "absent.xml")).Latest(context.Background())
	var pe *provider.PermanentError
	if err == nil || errors.As(err, &pe) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a retryable not-exist error", err)
	}
}

func TestHistory(t *testing.T) {
	const hist = "../../../testdata/ecb/eurofxref-hist-90d-2017.xml"
	const latest = "../../../testdata/oxr/latest-2022-09-01.json"
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name        string
		path        string
		from, to    string
		first, last string
		n           int
		wantType    string
	}{
		{"ecb range", hist, "2017-02-20", "2017-02-28", "2017-02-20", "2017-02-28", 7, ""},
		{"ecb whole file", hist, "2016-01-01", "2017-12-31", "2016-12-05", "2017-03-03", 64, ""},
		{"ecb weekend", hist, "2017-02-25", "2017-02-26", "", "", 0, ""},
		{"oxr in range", latest, "2022-09-01", "2022-09-01", "2022-09-01", "2022-09-01", 1, ""},
		{"oxr out of range", latest, "2022-08-01", "2022-08-31", "", "", 0, ""},
		{"reversed", hist, "2017-02-28", "2017-02-20", "", "", 0, provider.TypeRequestRejected},
		{"neither format", "../../../testdata/README.md", "2017-02-20", "2017-02-28", "", "", 0, provider.TypeInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := file.NewClient(tt.path).History(context.Background(), day(tt.from), day(tt.to))
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
			if len(sets) != tt.n {
				t.Fatalf("sets = %d, want %d", len(sets), tt.n)
			}
			for i := 1; i < len(sets); i++ {
				if !sets[i-1].AsOf.Before(sets[i].AsOf) {
					t.Fatalf("not oldest first at %d", i)
				}
			}
			if tt.n > 0 {
				if f, l := sets[0].AsOf.Format(time.DateOnly), sets[len(sets)-1].AsOf.Format(time.DateOnly); f != tt.first || l != tt.last {
					t.Fatalf("range %s..%s, want %s..%s", f, l, tt.first, tt.last)
				}
			}
		})
	}
}
