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

func TestFetch(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		day      time.Time
		base     string
		rates    int
		asOf     time.Time
		wantType string
	}{
		{"ecb daily", "../../../testdata/ecb/eurofxref-daily-2014-06-10.xml", time.Time{}, "EUR", 32, time.Date(2014, 6, 10, 14, 0, 0, 0, time.UTC), ""},
		{"ecb history, newest", "../../../testdata/ecb/eurofxref-hist-90d-2017.xml", time.Time{}, "EUR", 31, time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC), ""},
		{"ecb history, a date", "../../../testdata/ecb/eurofxref-hist-90d-2017.xml", time.Date(2017, 1, 15, 0, 0, 0, 0, time.UTC), "EUR", 31, time.Date(2017, 1, 13, 15, 0, 0, 0, time.UTC), ""},
		{"oxr", "../../../testdata/oxr/latest-2022-09-01.json", time.Time{}, "USD", 163, time.Unix(1662001200, 0).UTC(), ""},
		{"oxr before its date", "../../../testdata/oxr/latest-2022-09-01.json", time.Date(2022, 8, 31, 0, 0, 0, 0, time.UTC), "", 0, time.Time{}, provider.TypeNoRatesForDate},
		{"neither format", "../../../testdata/README.md", time.Time{}, "", 0, time.Time{}, provider.TypeInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := file.NewClient(tt.path).Fetch(context.Background(), tt.day)
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
			if set.Provider != "file" || set.Base != tt.base || len(set.Rates) != tt.rates || !set.AsOf.Equal(tt.asOf) {
				t.Fatalf("got %s/%s %d rates at %s", set.Provider, set.Base, len(set.Rates), set.AsOf)
			}
		})
	}
}

func TestMissingFileIsRetryable(t *testing.T) {
	_, err := file.NewClient(filepath.Join(t.TempDir(), "absent.xml")).Fetch(context.Background(), time.Time{})
	var pe *provider.PermanentError
	if err == nil || errors.As(err, &pe) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a retryable not-exist error", err)
	}
}

var _ provider.Source = (*file.Client)(nil)

func TestLatest(t *testing.T) {
	tests := []struct {
		name string
		path string
		base string
		asOf time.Time
	}{
		{"ecb history", "../../../testdata/ecb/eurofxref-hist-90d-2017.xml", "EUR", time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC)},
		{"oxr", "../../../testdata/oxr/latest-2022-09-01.json", "USD", time.Unix(1662001200, 0).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := file.NewClient(tt.path).Latest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != 1 || sets[0].Base != tt.base || !sets[0].AsOf.Equal(tt.asOf) {
				t.Fatalf("got %d sets, first %s at %s", len(sets), sets[0].Base, sets[0].AsOf)
			}
		})
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
