package bnrrw_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bnrrw"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bnrrw.Client)(nil)

// recordings are the service's answers for each currency, 19 to 22 May
// 2026 (see testdata/bnrrw/SOURCE.md).
func recordings(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, code := range bnrrw.Currencies {
		out[code] = providertest.ReadFile(t, "../../../testdata/bnrrw/currency_history-"+code+".json")
	}
	return out
}

// serve stands in for the service: /currency_history/?currency_name=X
// answers answers[X] (a 200 with [] when absent). It counts requests and
// keeps each currency's query.
func serve(t *testing.T, answers map[string][]byte) (*bnrrw.Client, *atomic.Int32, func(string) (string, string)) {
	t.Helper()
	var mu sync.Mutex
	ranges := map[string][2]string{}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/currency_history/" || q.Get("currency_name") == "" {
			http.NotFound(w, r)
			return
		}
		code := q.Get("currency_name")
		mu.Lock()
		ranges[code] = [2]string{q.Get("start_date"), q.Get("end_date")}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if b, ok := answers[code]; ok {
			w.Write(b)
			return
		}
		w.Write([]byte(`[]`))
	})
	c := bnrrw.NewClient(srv.URL, srv.Client())
	bnrrw.SetClock(c, func() time.Time { return time.Date(2026, 5, 24, 6, 42, 0, 0, time.UTC) })
	return c, n, func(code string) (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return ranges[code][0], ranges[code][1]
	}
}

// TestGolden compares Latest and History, parsed from the recordings, with
// the golden files. Checked by hand against the recordings: on 22 May 2026
// USD's average_rate is 1463.3525 (Rwandan francs per dollar; buying
// 1458.3525, selling 1468.3525), golden "USD RWF 1463.3525"; JPY's
// 9.201561 is per one yen (1463.35/9.2016 ≈ 159 yen per dollar) and
// UGX's 0.387057 per one Uganda shilling (≈ 3781 shillings per dollar).
// 16:00 in Kigali is 14:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden     string
		call             func(*bnrrw.Client) ([]fx.RateSet, error)
		wantFrom, wantTo string
	}{
		{"latest", "latest.golden", func(c *bnrrw.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "2026-05-10", "2026-05-24"},
		{"history", "history.golden", func(c *bnrrw.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-05-19"), providertest.Day("2026-05-20"))
		}, "2026-05-19", "2026-05-20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, recordings(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 16 {
				t.Fatalf("requests = %d, want 16 (one per currency)", got)
			}
			for _, code := range bnrrw.Currencies {
				if from, to := asked(code); from != tt.wantFrom || to != tt.wantTo {
					t.Fatalf("%s asked %s..%s, want %s..%s", code, from, to, tt.wantFrom, tt.wantTo)
				}
			}
		})
	}
}

func TestValues(t *testing.T) {
	c, _, _ := serve(t, recordings(t))
	sets, err := c.History(context.Background(), providertest.Day("2026-05-19"), providertest.Day("2026-05-22"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4*16 {
		t.Fatalf("sets = %d, want %d", len(sets), 4*16)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-05-22", "1463.3525"},
		{"USD", "2026-05-19", "1463.065"},
		{"JPY", "2026-05-20", "9.209145"},
		{"UGX", "2026-05-21", "0.388494"},
		{"EUR", "2026-05-21", "1700.521798"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base != tt.base || s.AsOf.Format(time.DateOnly) != tt.day {
					continue
				}
				if len(s.Rates) != 1 || s.Rates[0].Quote != bnrrw.Home || fx.Exact(s.Rates[0].Value) != tt.want {
					t.Fatalf("rates = %v, want %s RWF %s", s.Rates, tt.base, tt.want)
				}
				if want := providertest.Day(tt.day).Add(14 * time.Hour); !s.AsOf.Equal(want) {
					t.Fatalf("as_of = %s, want %s", s.AsOf, want)
				}
				return
			}
			t.Fatalf("no %s on %s", tt.base, tt.day)
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Bad gateway</body></html>`},
		{"an object", `{"error":"currency not found"}`},
		{"another currency", `[{"currency_name":"EUR","buying_rate":"1","average_rate":"1700","selling_rate":"1","post_date":"22-May-26"}]`},
		{"bad date", `[{"currency_name":"USD","average_rate":"1463.3525","post_date":"2026-05-22"}]`},
		{"no average", `[{"currency_name":"USD","buying_rate":"1458.3525","selling_rate":"1468.3525","post_date":"22-May-26"}]`},
		{"text rate", `[{"currency_name":"USD","average_rate":"n/a","post_date":"22-May-26"}]`},
		{"a day twice", `[{"currency_name":"USD","average_rate":"1463.3525","post_date":"22-May-26"},{"currency_name":"USD","average_rate":"1463.5","post_date":"22-May-26"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, map[string][]byte{"USD": []byte(tt.payload)})
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
	t.Run("no currency published", func(t *testing.T) {
		c, _, _ := serve(t, nil)
		_, err := c.Latest(context.Background())
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
			t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
		}
	})
}

// TestHistoryRequests checks one request per currency whatever the range,
// and none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-05-21", "2026-05-21", 16},
		{"a weekend", "2026-05-23", "2026-05-24", 0},
		{"a year", "2025-06-01", "2026-05-31", 4 * 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, recordings(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 16 || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after 16", len(sets), n.Load(), tt.sets)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, recordings(t))
		_, err := c.History(context.Background(), providertest.Day("2026-05-22"), providertest.Day("2026-05-19"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
