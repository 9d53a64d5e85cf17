package boc_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/boc"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*boc.Client)(nil)

// recording is the Valet answer to
// /valet/observations/group/FX_RATES_DAILY/json?start_date=2026-03-12,
// five business days, 2026-03-12 to 2026-03-18 (see testdata/boc/SOURCE.md).
const recording = "../../../testdata/boc/FX_RATES_DAILY-sd-2026-03-12.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers the group's observations with payload, counting requests
// and keeping the last query.
func serve(t *testing.T, payload []byte) (*boc.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.RawQuery)
		if r.URL.Path != "/valet/observations/group/FX_RATES_DAILY/json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	return boc.NewClient(srv.URL+"/valet/", srv.Client()), n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 2026-03-18
// FXUSDCAD is "1.3706" and FXJPYCAD "0.008590" (CAD per one unit, no
// per-100 scaling), so latest.golden reads "USD CAD 1.3706" and
// "JPY CAD 0.008590", trailing zero kept; 2026-03-16's FXIDRCAD is
// "0.000080". 16:30 in
// Toronto in March (EDT, UTC-4) is 20:30 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*boc.Client) ([]fx.RateSet, error)
		wantQuery    string
	}{
		{"latest", "latest.golden", func(c *boc.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "recent=1"},
		{"history", "history.golden", func(c *boc.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-13"), providertest.Day("2026-03-17"))
		}, "end_date=2026-03-17&start_date=2026-03-13"},
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
				t.Fatalf("requests = %d, want 1 (Valet serves ranges)", got)
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
	// 23 series observed on 2026-03-18 (MYR and VND are described but not observed).
	if len(sets) != 23 {
		t.Fatalf("sets = %d, want 23", len(sets))
	}
	want := time.Date(2026, 3, 18, 20, 30, 0, 0, time.UTC)
	for _, s := range sets {
		if s.Provider != "boc" || len(s.Rates) != 1 || s.Rates[0].Quote != "CAD" || !s.AsOf.Equal(want) {
			t.Fatalf("set %+v", s)
		}
	}
}

func TestHistoryRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
	}{
		{"one day", "2026-03-16", "2026-03-16", 1},
		{"whole recording", "2026-03-01", "2026-03-31", 5},
		{"weekend only", "2026-03-14", "2026-03-15", 0},
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
	if _, err := c.History(context.Background(), providertest.Day("2026-03-17"), providertest.Day("2026-03-13")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty json", `{}`},
		{"no observations", `{"seriesDetail":{"FXUSDCAD":{}}}`},
		{"empty latest", `{"seriesDetail":{"FXUSDCAD":{}},"observations":[]}`},
		{"bad date", `{"seriesDetail":{},"observations":[{"d":"18/03/2026","FXUSDCAD":{"v":"1.3706"}}]}`},
		{"text value", `{"seriesDetail":{},"observations":[{"d":"2026-03-18","FXUSDCAD":{"v":"n/a"}}]}`},
		{"zero value", `{"seriesDetail":{},"observations":[{"d":"2026-03-18","FXUSDCAD":{"v":"0"}}]}`},
		{"no rates on a date", `{"seriesDetail":{},"observations":[{"d":"2026-03-18"}]}`},
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
