package nbk_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbk"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbk.Client)(nil)

// recorded maps an fdate to its trimmed recording (testdata/nbk/SOURCE.md).
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, d := range []string{"01.04.2026", "02.04.2026", "03.04.2026"} {
		m[d] = providertest.ReadFile(t, "../../../testdata/nbk/get_rates_"+d+".xml")
	}
	return m
}

// serve answers get_rates.cfm from pages by fdate (404 for others) and
// counts requests.
func serve(t *testing.T, pages map[string][]byte) (*nbk.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("fdate")]
		if r.URL.Path != "/rss/get_rates.cfm" || !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		w.Write(body)
	})
	c := nbk.NewClient(srv.URL+"/", srv.Client())
	// 2026-04-03 10:00 in Almaty, the recording's last date.
	nbk.SetClock(c, func() time.Time { return time.Date(2026, 4, 3, 5, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording of 03.04.2026 (as_of 13:00 UTC, 18:00 in
// Almaty): USD <description>472.31</description><quant>1</quant> gives
// USD/KZT 472.31; AMD 12.61 per <quant>10</quant> gives AMD/KZT 1.261;
// KRW 31.15 per 100 gives 0.3115; IRR 0.4 per 1000 gives 0.0004.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		requests int32
		call     func(c *nbk.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", 1, func(c *nbk.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", 3, func(c *nbk.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-04-01"), providertest.Day("2026-04-03"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			for _, s := range sets {
				if s.Provider != nbk.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "KZT" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = `<?xml version="1.0" encoding="utf-8"?><rates><date>03.04.2026</date>`
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty", ``},
		{"no date", `<rates><item><title>USD</title><description>472.31</description><quant>1</quant></item></rates>`},
		{"text rate", head + `<item><title>USD</title><description>n/a</description><quant>1</quant></item></rates>`},
		{"zero rate", head + `<item><title>USD</title><description>0</description><quant>1</quant></item></rates>`},
		{"quant not a power of ten", head + `<item><title>AMD</title><description>12.61</description><quant>12</quant></item></rates>`},
		{"twice", head + `<item><title>USD</title><description>472.31</description><quant>1</quant></item><item><title>USD</title><description>472.31</description><quant>1</quant></item></rates>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, map[string][]byte{"03.04.2026": []byte(tt.payload)})
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
		name     string
		from, to string
		requests int32
		dates    int
	}{
		{"three weekdays", "2026-04-01", "2026-04-03", 3, 3},
		{"a weekend asks nothing", "2026-04-04", "2026-04-05", 0, 0},
		{"a week asks its weekdays only", "2026-04-01", "2026-04-05", 3, 3},
		{"one day", "2026-04-02", "2026-04-02", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			// At most one request per publication day (weekdays).
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
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

// TestHolidayRepeat: an answer dated earlier than asked (a holiday) is not
// kept twice.
func TestHolidayRepeat(t *testing.T) {
	pages := recorded(t)
	pages["02.04.2026"] = pages["01.04.2026"]
	c, _ := serve(t, pages)
	sets, err := c.History(context.Background(), providertest.Day("2026-04-01"), providertest.Day("2026-04-02"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 9 {
		t.Fatalf("sets = %d, want the 9 of 2026-04-01 once", len(sets))
	}
}

func TestReversedRange(t *testing.T) {
	c, n := serve(t, recorded(t))
	_, err := c.History(context.Background(), providertest.Day("2026-04-03"), providertest.Day("2026-04-01"))
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), provider.TypeRequestRejected)
	}
}
