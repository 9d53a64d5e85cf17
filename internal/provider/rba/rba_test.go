package rba_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/providertest"
	"ces/internal/provider/rba"
)

var _ provider.Source = (*rba.Client)(nil)

// recording is table F11.1 as published on 2026-03-20, trimmed to its
// head, its first three and its last seven rows (see
// testdata/rba/SOURCE.md).
const recording = "../../../testdata/rba/f11.1-data.csv"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers the table's file with payload, counting requests.
func serve(t *testing.T, payload []byte) (*rba.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/statistics/tables/csv/f11.1-data.csv" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(payload)
	})
	return rba.NewClient(srv.URL+"/statistics/tables/csv/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 20-Mar-2026
// "A$1=USD" is 0.7088 and "A$1=JPY" 112.27 (units one Australian dollar
// buys), so latest.golden reads "AUD USD 0.7088" and "AUD JPY 112.27";
// IDR is 12039 and VND 18650, per one AUD (no scaling). The index and SDR
// columns are skipped. 16:00 in Sydney in March (AEDT, UTC+11) is 05:00
// UTC the same day.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*rba.Client) ([]fx.RateSet, error)
	}{
		{"latest", "latest.golden", func(c *rba.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}},
		{"history", "history.golden", func(c *rba.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2023-01-04"), providertest.Day("2026-03-13"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (one file holds every date)", got)
			}
		})
	}
}

func TestHistoryRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
	}{
		{"one day", "2026-03-17", "2026-03-17", 1},
		{"whole recording", "2023-01-01", "2026-03-31", 10},
		{"weekend only", "2026-03-14", "2026-03-15", 0},
		{"before the table", "2022-01-01", "2022-12-31", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.dates {
				t.Fatalf("sets = %d, want %d", len(sets), tt.dates)
			}
			for i, s := range sets {
				if s.Base != "AUD" || (i > 0 && !s.AsOf.After(sets[i-1].AsOf)) {
					t.Fatalf("set %d: base %s as_of %s, want AUD, oldest first", i, s.Base, s.AsOf)
				}
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = "Units,USD,Index\nSeries ID,FXRUSD,FXRTWI\n"
	tests := []struct {
		name, payload string
	}{
		{"html error page", "<html><body>Page not found</body></html>"},
		{"empty body", ""},
		{"head only", head},
		{"no units row", "Series ID,FXRUSD\n20-Mar-2026,0.7088\n"},
		{"bad date", head + "2026-03-20,0.7088,66.10\n"},
		{"text value", head + "20-Mar-2026,n/a,66.10\n"},
		{"zero value", head + "20-Mar-2026,0,66.10\n"},
		{"only the index", head + "20-Mar-2026,,66.10\n"},
		{"row longer than the units", head + "20-Mar-2026,0.7088,66.10,1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
			sets, err := c.Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want an invalid-payload error", err)
			}
			if sets != nil {
				t.Fatalf("sets = %v, want none", sets)
			}
		})
	}
}
