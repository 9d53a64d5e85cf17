package bdi_test

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
	"ces/internal/provider/bdi"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bdi.Client)(nil)

// recorded maps a referenceDate to its trimmed recording (testdata/bdi/SOURCE.md).
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, d := range []string{"2026-02-09", "2026-02-10", "2026-02-11"} {
		m[d] = providertest.ReadFile(t, "../../../testdata/bdi/dailyRates_"+d+".csv")
	}
	return m
}

// serve answers dailyRates from pages by referenceDate (404 for others)
// and counts requests.
func serve(t *testing.T, pages map[string][]byte) (*bdi.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		body, ok := pages[q.Get("referenceDate")]
		if r.URL.Path != "/terzevalute-wf-web/rest/v1.0/dailyRates" || q.Get("currencyIsoCode") != "EUR" || !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Write(body)
	})
	c := bdi.NewClient(srv.URL+"/terzevalute-wf-web/rest/v1.0/", srv.Client())
	// 2026-02-11 20:00 in Rome, the recording's last date.
	bdi.SetClock(c, func() time.Time { return time.Date(2026, 2, 11, 19, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording of 2026-02-11 (as_of 17:00 UTC, 18:00
// CET): "JAPAN,Japanese Yen,JPY,071,182.7900,Foreign currency amount for
// 1 Euro." gives EUR/JPY 182.7900, digits kept; USD 1.1900 gives EUR/USD
// 1.1900 (the ECB's reference rate that day); XOF, repeated for seven
// countries at 655.957, is one rate; RUB "N.A." is skipped.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		requests int32
		call     func(c *bdi.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", 1, func(c *bdi.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", 3, func(c *bdi.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-02-09"), providertest.Day("2026-02-11"))
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
				if s.Provider != bdi.Name || s.Base != "EUR" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = "Country,Currency,ISO Code,UIC Code,Rate,Rate convention,Reference date (CET)\n"
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"empty", ""},
		{"json", `{"rates":[]}`},
		{"text rate", head + "JAPAN,Japanese Yen,JPY,071,n/a,Foreign currency amount for 1 Euro.,2026-02-11\n"},
		{"zero rate", head + "JAPAN,Japanese Yen,JPY,071,0,Foreign currency amount for 1 Euro.,2026-02-11\n"},
		{"bad date", head + "JAPAN,Japanese Yen,JPY,071,182.79,Foreign currency amount for 1 Euro.,11/02/2026\n"},
		{"two dates", head + "JAPAN,Japanese Yen,JPY,071,182.79,Foreign currency amount for 1 Euro.,2026-02-11\nUNITED STATES,U.S. Dollar,USD,001,1.19,Foreign currency amount for 1 Euro.,2026-02-10\n"},
		{"conflicting repeat", head + "BENIN,CFA Franc,XOF,209,655.957,Foreign currency amount for 1 Euro.,2026-02-11\nMALI,CFA Franc,XOF,209,655.958,Foreign currency amount for 1 Euro.,2026-02-11\n"},
		{"only N.A.", head + "RUSSIAN FEDERATION,Russian Ruble,RUB,244,N.A.,Foreign currency amount for 1 Euro.,2026-02-11\n"},
		{"short row", head + "JAPAN,Japanese Yen,JPY,071,182.79\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, map[string][]byte{"2026-02-11": []byte(tt.payload)})
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

// TestOtherConventionSkipped: a row quoted another way is not read as
// units per euro.
func TestOtherConventionSkipped(t *testing.T) {
	const payload = "Country,Currency,ISO Code,UIC Code,Rate,Rate convention,Reference date (CET)\n" +
		"UNITED STATES,U.S. Dollar,USD,001,1.1900,Foreign currency amount for 1 Euro.,2026-02-11\n" +
		"JAPAN,Japanese Yen,JPY,071,0.5471,Euro amount for 100 units of foreign currency.,2026-02-11\n"
	c, _ := serve(t, map[string][]byte{"2026-02-11": []byte(payload)})
	sets, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || len(sets[0].Rates) != 1 || strings.Join(sets[0].Skipped, ",") != "JPY" {
		t.Fatalf("sets = %+v, want USD only and JPY skipped", sets)
	}
}

func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		requests int32
		dates    int
	}{
		{"three weekdays", "2026-02-09", "2026-02-11", 3, 3},
		{"a weekend asks nothing", "2026-02-07", "2026-02-08", 0, 0},
		{"saturday to wednesday asks the weekdays only", "2026-02-07", "2026-02-11", 3, 3},
		{"one day", "2026-02-10", "2026-02-10", 1, 1},
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
			if len(sets) != tt.dates {
				t.Fatalf("sets = %d, want %d", len(sets), tt.dates)
			}
		})
	}
}

func TestReversedRange(t *testing.T) {
	c, n := serve(t, recorded(t))
	_, err := c.History(context.Background(), providertest.Day("2026-02-11"), providertest.Day("2026-02-09"))
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), provider.TypeRequestRejected)
	}
}
