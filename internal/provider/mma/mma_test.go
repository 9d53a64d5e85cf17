package mma_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/mma"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*mma.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/mma/referencerates.json")
}

// serve stands in for the MMA's site: a GET of the reference rates file
// with v=20260522 answers payload. It counts the requests.
func serve(t *testing.T, payload []byte) (*mma.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/JSON/referencerates.json" || r.URL.Query().Get("v") != "20260522" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	})
	c := mma.NewClient(srv.URL, srv.Client())
	mma.SetClock(c, func() time.Time { return time.Date(2026, 5, 22, 12, 50, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: {"Date": "21 May 2026", "Rate":
// "15.42"} is golden "USD MVR 15.42" (rufiyaa per dollar, the rate the
// MMA holds in its band around 15.42), dated 08:00 in Malé (UTC+5) =
// 03:00 UTC; 09 February 2021, listed twice with the same rate, is one set.
func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		latest bool
	}{
		{"latest", "latest.golden", true},
		{"history", "history.golden", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recording(t))
			var sets []fx.RateSet
			var err error
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2021-01-01"), providertest.Day("2026-05-21"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Maldives Monetary Authority</body></html>`},
		{"object", `{"Date": "21 May 2026", "Rate": "15.42"}`},
		{"empty array", `[]`},
		{"null", `null`},
		{"bad date", `[{"Date": "2026-05-21", "Rate": "15.42"}]`},
		{"text rate", `[{"Date": "21 May 2026", "Rate": "n/a"}]`},
		{"no rate", `[{"Date": "21 May 2026"}]`},
		{"conflicting duplicate", `[{"Date": "21 May 2026", "Rate": "15.42"}, {"Date": "21 May 2026", "Rate": "15.41"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
			sets, err := c.Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
			if sets != nil {
				t.Fatalf("sets returned with the error: %v", sets)
			}
		})
	}
}

// TestHistoryRequests checks one request for any range (the file holds
// every date) and none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-05-18", "2026-05-18", 1},
		{"a weekend", "2026-05-15", "2026-05-16", 0},
		{"the last week", "2026-05-15", "2026-05-21", 5},
		{"everything", "2011-04-21", "2026-05-31", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after 1", len(sets), n.Load(), tt.sets)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-05-21"), providertest.Day("2026-05-17"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
