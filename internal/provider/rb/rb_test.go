package rb_test

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
	"ces/internal/provider/providertest"
	"ces/internal/provider/rb"
)

var _ provider.Source = (*rb.Client)(nil)

// recording is SWEA's answer to /Observations/ByGroup/130/2026-03-24/2026-03-28:
// four banking days, 2026-03-24 to 2026-03-27, 30 series (see
// testdata/rb/SOURCE.md).
const recording = "../../../testdata/rb/ByGroup-130-2026-03-24-2026-03-28.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers group 130's observations with payload, counting requests
// and keeping the last path.
func serve(t *testing.T, payload []byte) (*rb.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Path)
		if !strings.HasPrefix(r.URL.Path, "/swea/v1/Observations/ByGroup/130/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	c := rb.NewClient(srv.URL+"/swea/v1/", srv.Client())
	rb.SetClock(c, func() time.Time { return time.Date(2026, 3, 30, 23, 24, 0, 0, time.UTC) })
	return c, n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 2026-03-27
// SEKUSDPMI is 9.44517 and SEKJPYPMI 0.05907 (kronor per one unit: 159.9
// yen to the dollar agrees with 9.44517/0.05907), so latest.golden reads
// "USD SEK 9.44517" and "JPY SEK 0.05907"; SEKETT (the krona at 1) is no
// rate. 17:00 in Stockholm in March before the 29th (CET, UTC+1) is 16:00
// UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*rb.Client) ([]fx.RateSet, error)
		wantQuery    string
	}{
		{"latest", "latest.golden", func(c *rb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "/swea/v1/Observations/ByGroup/130/2026-03-17/2026-03-31"},
		{"history", "history.golden", func(c *rb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-25"), providertest.Day("2026-03-26"))
		}, "/swea/v1/Observations/ByGroup/130/2026-03-25/2026-03-26"},
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
				t.Fatalf("requests = %d, want 1 (SWEA serves ranges)", got)
			}
			if got := q.Load().(string); got != tt.wantQuery {
				t.Fatalf("path = %q, want %q", got, tt.wantQuery)
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
	// 30 series on 2026-03-27, less SEKETT.
	if len(sets) != 29 {
		t.Fatalf("sets = %d, want 29", len(sets))
	}
	want := time.Date(2026, 3, 27, 16, 0, 0, 0, time.UTC)
	for _, s := range sets {
		if s.Provider != "rb" || len(s.Rates) != 1 || s.Rates[0].Quote != "SEK" || !s.AsOf.Equal(want) {
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
		{"one day", "2026-03-26", "2026-03-26", 1},
		{"whole recording", "2026-03-01", "2026-03-31", 4},
		{"weekend only", "2026-03-28", "2026-03-29", 0},
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
	if _, err := c.History(context.Background(), providertest.Day("2026-03-27"), providertest.Day("2026-03-24")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty json", `{}`},
		{"null", `null`},
		{"empty latest", `[]`},
		{"no series", `[{"date":"2026-03-27","value":9.44517}]`},
		{"bad date", `[{"seriesId":"SEKUSDPMI","date":"27/03/2026","value":9.44517}]`},
		{"text value", `[{"seriesId":"SEKUSDPMI","date":"2026-03-27","value":"n/a"}]`},
		{"zero value", `[{"seriesId":"SEKUSDPMI","date":"2026-03-27","value":0}]`},
		{"only a non-ISO code", `[{"seriesId":"SEKQQQPMI","date":"2026-03-27","value":1}]`},
		{"duplicate", `[{"seriesId":"SEKUSDPMI","date":"2026-03-27","value":9.4},{"seriesId":"SEKUSDPMI","date":"2026-03-27","value":9.4}]`},
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
