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
