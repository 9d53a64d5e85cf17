package nb_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nb.Client)(nil)

// recording is the API's CSV answer for EXR/B..NOK.SP from 2026-03-16 to
// 2026-03-24, cut to its last three business days, 2026-03-20 to
// 2026-03-24, 38 series each (see testdata/nb/SOURCE.md).
const recording = "../../../testdata/nb/exr-2026-03-20-to-2026-03-24.csv"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers the EXR data with payload, counting requests
// and keeping the last query.
func serve(t *testing.T, payload []byte) (*nb.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.RawQuery)
		if r.URL.Path != "/api/data/EXR/B..NOK.SP" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv;charset=UTF-8")
		w.Write(payload)
	})
	return nb.NewClient(srv.URL+"/api/", srv.Client()), n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 2026-03-24
// USD (UNIT_MULT 0) is 9.7049, so latest.golden reads "USD NOK 9.7049";
// JPY (UNIT_MULT 2) is 6.1065 kroner per 100 yen, read as "JPY NOK
// 0.061065", every digit kept; HUF 2.8805 per 100 as 0.028805. I44 and
// TWI are skipped. 16:00 in Oslo in March (CET, UTC+1) is 15:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*nb.Client) ([]fx.RateSet, error)
		wantQuery    string
	}{
		{"latest", "latest.golden", func(c *nb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "format=csvdata&lastNObservations=1"},
		{"history", "history.golden", func(c *nb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-20"), providertest.Day("2026-03-23"))
		}, "endPeriod=2026-03-23&format=csvdata&startPeriod=2026-03-20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, q := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (the API serves periods)", got)
			}
			if got := q.Load().(string); got != tt.wantQuery {
				t.Fatalf("query = %q, want %q", got, tt.wantQuery)
			}
		})
	}
}

func TestLatestShape(t *testing.T) {
	c, _, _ := serve(t, fixture(t))
	sets, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 38 series on 2026-03-24, less the indices I44 and TWI.
	if len(sets) != 36 {
		t.Fatalf("sets = %d, want 36", len(sets))
	}
	want := time.Date(2026, 3, 24, 15, 0, 0, 0, time.UTC)
	for _, s := range sets {
		if s.Provider != "nb" || len(s.Rates) != 1 || s.Rates[0].Quote != "NOK" || !s.AsOf.Equal(want) {
			t.Fatalf("set %+v", s)
		}
	}
	if got := strings.Join(sets[0].Skipped, ","); got != "I44,TWI" {
		t.Fatalf("skipped = %q, want I44,TWI", got)
	}
}

func TestHistoryRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
	}{
		{"one day", "2026-03-23", "2026-03-23", 1},
		{"whole recording", "2026-03-01", "2026-03-31", 3},
		{"weekend only", "2026-03-21", "2026-03-22", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			dates := map[string]bool{}
			for _, s := range sets {
				dates[s.AsOf.Format(time.DateOnly)] = true
			}
			if len(dates) != tt.dates {
				t.Fatalf("dates = %v, want %d", dates, tt.dates)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
		})
	}
	c, n, _ := serve(t, fixture(t))
	if _, err := c.History(context.Background(), providertest.Day("2026-03-24"), providertest.Day("2026-03-20")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	const head = "FREQ,BASE_CUR,QUOTE_CUR,TENOR,DECIMALS,CALCULATED,UNIT_MULT,COLLECTION,TIME_PERIOD,OBS_VALUE\n"
	tests := []struct {
		name, payload string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"empty body", ""},
		{"header only", head},
		{"no UNIT_MULT column", "FREQ,BASE_CUR,QUOTE_CUR,TIME_PERIOD,OBS_VALUE\nB,USD,NOK,2026-03-24,9.6573\n"},
		{"another quote currency", head + "B,USD,SEK,SP,4,false,0,C,2026-03-24,9.6573\n"},
		{"bad date", head + "B,USD,NOK,SP,4,false,0,C,24.03.2026,9.6573\n"},
		{"text value", head + "B,USD,NOK,SP,4,false,0,C,2026-03-24,n/a\n"},
		{"zero value", head + "B,USD,NOK,SP,4,false,0,C,2026-03-24,0\n"},
		{"bad unit", head + "B,JPY,NOK,SP,4,false,x,C,2026-03-24,6.0631\n"},
		{"only an index", head + "B,I44,NOK,SP,2,true,0,C,2026-03-24,118.45\n"},
		{"short row", head + "B,USD,NOK,SP,4,false,0,C,2026-03-24\n"},
		{"duplicate", head + "B,USD,NOK,SP,4,false,0,C,2026-03-24,9.6573\nB,USD,NOK,SP,4,false,0,C,2026-03-24,9.6573\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload))
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
