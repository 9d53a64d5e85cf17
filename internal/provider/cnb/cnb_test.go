package cnb_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cnb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cnb.Client)(nil)

// recording is the CNB API's answer to /exrates/daily-year?lang=EN&year=2026,
// cut to its last three fixings, 2026-03-31 to 2026-04-02, 30 currencies
// each (see testdata/cnb/SOURCE.md).
const recording = "../../../testdata/cnb/daily-year-2026.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers the daily endpoint and the daily-year endpoint for 2026
// with payload (both answer {"rates": [...]}), any other year with an
// empty array, counting requests and keeping the last path and query.
func serve(t *testing.T, payload []byte) (*cnb.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Path + "?" + r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/cnbapi/exrates/daily", r.URL.Path == "/cnbapi/exrates/daily-year" && r.URL.Query().Get("year") == "2026":
			w.Write(payload)
		case r.URL.Path == "/cnbapi/exrates/daily-year":
			w.Write([]byte(`{"rates":[]}`))
		default:
			http.NotFound(w, r)
		}
	})
	return cnb.NewClient(srv.URL+"/cnbapi/", srv.Client()), n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 2026-04-02
// USD (amount 1) is 21.291, so latest.golden reads "USD CZK 21.291"; JPY
// (amount 100) is 13.338 koruna per 100 yen, read as "JPY CZK 0.13338";
// IDR (amount 1000) 1.253 per 1000 as 0.001253; EUR's 24.540 keeps its
// trailing zero (the JSON number's own text). 14:30 in
// Prague on 2 April (CEST, UTC+2) is 12:30 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*cnb.Client) ([]fx.RateSet, error)
		wantQuery    string
	}{
		{"latest", "latest.golden", func(c *cnb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "/cnbapi/exrates/daily?lang=EN"},
		{"history", "history.golden", func(c *cnb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-31"), providertest.Day("2026-04-01"))
		}, "/cnbapi/exrates/daily-year?lang=EN&year=2026"},
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
				t.Fatalf("requests = %d, want 1 (one year file)", got)
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
	// 30 currencies on 2026-04-02, XDR among them (an ISO 4217 code).
	if len(sets) != 30 {
		t.Fatalf("sets = %d, want 30", len(sets))
	}
	want := time.Date(2026, 4, 2, 12, 30, 0, 0, time.UTC)
	for _, s := range sets {
		if s.Provider != "cnb" || len(s.Rates) != 1 || s.Rates[0].Quote != "CZK" || !s.AsOf.Equal(want) {
			t.Fatalf("set %+v", s)
		}
	}
}

func TestHistoryRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
		requests int32
	}{
		{"one day", "2026-04-01", "2026-04-01", 1, 1},
		{"whole recording", "2026-03-01", "2026-04-30", 3, 1},
		{"two years, one request each", "2025-12-01", "2026-04-30", 3, 2},
		{"three years", "2024-06-01", "2026-03-31", 1, 3},
		{"weekend only", "2026-03-28", "2026-03-29", 0, 1},
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
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d (one per calendar year)", n.Load(), tt.requests)
			}
		})
	}
	c, n, _ := serve(t, fixture(t))
	if _, err := c.History(context.Background(), providertest.Day("2026-04-02"), providertest.Day("2026-03-31")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty json", `{}`},
		{"error object", `{"description":"Bad request","errorCode":"VALIDATION_ERROR","happenedAt":"2026-04-02T20:53:43Z"}`},
		{"empty latest", `{"rates":[]}`},
		{"bad date", `{"rates":[{"currencyCode":"USD","amount":1,"validFor":"02.04.2026","rate":21.238}]}`},
		{"text rate", `{"rates":[{"currencyCode":"USD","amount":1,"validFor":"2026-04-02","rate":"n/a"}]}`},
		{"zero rate", `{"rates":[{"currencyCode":"USD","amount":1,"validFor":"2026-04-02","rate":0}]}`},
		{"amount not a power of ten", `{"rates":[{"currencyCode":"JPY","amount":50,"validFor":"2026-04-02","rate":6.67}]}`},
		{"zero amount", `{"rates":[{"currencyCode":"JPY","amount":0,"validFor":"2026-04-02","rate":6.67}]}`},
		{"only a non-ISO code", `{"rates":[{"currencyCode":"QQQ","amount":1,"validFor":"2026-04-02","rate":1.5}]}`},
		{"duplicate", `{"rates":[{"currencyCode":"USD","amount":1,"validFor":"2026-04-02","rate":21.238},{"currencyCode":"USD","amount":1,"validFor":"2026-04-02","rate":21.238}]}`},
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
