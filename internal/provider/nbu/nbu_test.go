package nbu_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbu"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbu.Client)(nil)

// The recording: exchange_site for exchange dates 2026-03-01..10 (trimmed
// to seven currencies from 2026-03-01..16), see testdata/nbu/SOURCE.md.
const fixturePath = "../../../testdata/nbu/exchange_site.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, fixturePath)
}

// serve answers exchange_site with payload, counting requests and keeping
// the last query.
func serve(t *testing.T, payload []byte) (*nbu.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		if r.URL.Path != "/NBU_Exchange/exchange_site" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	c := nbu.NewClient(srv.URL+"/", srv.Client())
	// 2026-03-10 12:00 in Kyiv: the recording's exchange dates end there.
	nbu.SetClock(c, func() time.Time { return time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC) })
	return c, n, &query
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording, exchange date 03.03.2026 (calcdate
// 02.03, so as_of 2026-03-02 15:00 UTC, 17:00 EET): USD "rate":43.2343,
// "units":1 gives USD/UAH 43.2343; JPY "rate":2.7472,"units":10 gives
// JPY/UAH 0.27472; HUF "rate":13.2832,"units":100 gives 0.132832; IDR
// "rate":2.5629,"units":1000 gives 0.0025629. Exchange dates 07.03 and
// 08.03 repeat calcdate 05.03 and add no publication.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		call func(c *nbu.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", func(c *nbu.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", func(c *nbu.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-02-27"), providertest.Day("2026-03-09"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
			for _, s := range sets {
				if s.Provider != nbu.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "UAH" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const ok = `{"exchangedate":"03.03.2026","r030":840,"cc":"USD","rate":43.2343,"units":1,"calcdate":"02.03.2026"}`
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty object", `{}`},
		{"null", `null`},
		{"text rate", `[{"exchangedate":"03.03.2026","cc":"USD","rate":"n/a","units":1,"calcdate":"02.03.2026"}]`},
		{"zero rate", `[{"exchangedate":"03.03.2026","cc":"USD","rate":0,"units":1,"calcdate":"02.03.2026"}]`},
		{"units not a power of ten", `[{"exchangedate":"03.03.2026","cc":"JPY","rate":2.7418,"units":12,"calcdate":"02.03.2026"}]`},
		{"bad calcdate", `[{"exchangedate":"03.03.2026","cc":"USD","rate":43.2343,"units":1,"calcdate":"2026-03-02"}]`},
		{"two rates for one calcdate", `[` + ok + `,{"exchangedate":"04.03.2026","cc":"USD","rate":43.3,"units":1,"calcdate":"02.03.2026"}]`},
		{"only metals", `[{"exchangedate":"03.03.2026","cc":"XAU","rate":223871.54,"units":1,"calcdate":"02.03.2026"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload))
			sets, err := c.Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
			if sets != nil {
				t.Fatalf("sets = %v, want none", sets)
			}
		})
	}
}

func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name       string
		from, to   string
		dates      int
		start, end string
		wantType   string
	}{
		{"the whole recording", "2026-02-01", "2026-03-31", 8, "20260201", "20260410", ""},
		{"one calcdate", "2026-03-05", "2026-03-05", 1, "20260305", "20260315", ""},
		{"a weekend sets nothing", "2026-03-07", "2026-03-08", 0, "20260307", "20260318", ""},
		{"reversed", "2026-03-09", "2026-03-02", 0, "", "", provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, query := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if tt.wantType != "" {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType || n.Load() != 0 {
					t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), tt.wantType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// NBU serves ranges: one request, whatever the span.
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
			q := query.Load().(url.Values)
			if q["start"][0] != tt.start || q["end"][0] != tt.end {
				t.Fatalf("asked start=%s end=%s, want %s..%s", q["start"], q["end"], tt.start, tt.end)
			}
			days := map[string]bool{}
			for _, s := range sets {
				days[s.AsOf.Format(time.DateOnly)] = true
			}
			if len(days) != tt.dates {
				t.Fatalf("dates = %v, want %d", days, tt.dates)
			}
		})
	}
}
