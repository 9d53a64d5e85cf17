package rba_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/rba"
)

var update = flag.Bool("update", false, "rewrite golden files")

var _ provider.Source = (*rba.Client)(nil)

// recording is table F11.1 as published on 2026-03-20, trimmed to its
// head, its first three and its last seven rows (see
// testdata/rba/SOURCE.md).
const recording = "../../../testdata/rba/f11.1-data.csv"

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve answers the table's file with payload, counting requests.
func serve(t *testing.T, payload []byte) (*rba.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/statistics/tables/csv/f11.1-data.csv" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(payload)
	}))
	t.Cleanup(srv.Close)
	return rba.NewClient(srv.URL+"/statistics/tables/csv/", srv.Client()), &n
}

// render lists one line per rate: as_of, base, quote, exact value; and the
// columns a set skipped.
func render(sets []fx.RateSet) []byte {
	var b strings.Builder
	for _, s := range sets {
		for _, r := range s.Rates {
			fmt.Fprintf(&b, "%s %s %s %s\n", s.AsOf.Format(time.RFC3339), s.Base, r.Quote, fx.Exact(r.Value))
		}
		if len(s.Skipped) > 0 {
			fmt.Fprintf(&b, "%s %s skipped %s\n", s.AsOf.Format(time.RFC3339), s.Base, strings.Join(s.Skipped, ","))
		}
	}
	return []byte(b.String())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from the parsed recording (run with -update to rewrite):\ngot:\n%s", path, got)
	}
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
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
			return c.History(context.Background(), day("2023-01-04"), day("2026-03-13"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, render(sets))
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
			sets, err := c.History(context.Background(), day(tt.from), day(tt.to))
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
