package amcm_test

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
	"ces/internal/provider/amcm"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*amcm.Client)(nil)

// recording is the API's answer for 18 to 22 May 2026 (see
// testdata/amcm/SOURCE.md).
const recording = "../../../testdata/amcm/financial_info-20260518-20260522.json"

// serve answers the financial_info endpoint with payload, counting
// requests and keeping the last query.
func serve(t *testing.T, payload []byte) (*amcm.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		if r.URL.Path != "/cms/financial_info" || r.URL.Query().Get("QueryType") != "1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	c := amcm.NewClient(srv.URL, srv.Client())
	amcm.SetClock(c, func() time.Time { return time.Date(2026, 5, 24, 6, 33, 0, 0, time.UTC) })
	return c, n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 22 May 2026
// USD's usdMean is 8.0705 (patacas per dollar: the pataca is pegged near
// 8.03 through HKD 1.03), so latest.golden reads "USD MOP 8.0705"; JPY's
// 5.0727 is per 100 yen (unit 100.0), read "JPY MOP 0.050727" (USD/JPY =
// 8.0705/0.050727 ≈ 159, the row's own bid 159.09); KRW 0.5400 per 100
// is "KRW MOP 0.005400" (digits kept); LIQ (unit 0) is skipped. 11:00 in Macau is 03:00
// UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden     string
		call             func(*amcm.Client) ([]fx.RateSet, error)
		wantFrom, wantTo string
	}{
		{"latest", "latest.golden", func(c *amcm.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "20260510", "20260524"},
		{"history", "history.golden", func(c *amcm.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-05-19"), providertest.Day("2026-05-20"))
		}, "20260519", "20260520"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, q := serve(t, providertest.ReadFile(t, recording))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (the API serves ranges)", got)
			}
			v := q.Load().(url.Values)
			if v.Get("Begin") != tt.wantFrom || v.Get("End") != tt.wantTo {
				t.Fatalf("query = %v, want Begin=%s End=%s", v, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestValues(t *testing.T) {
	sets, err := amcm.Parse(providertest.ReadFile(t, recording))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-05-22", "8.0705"},
		{"HKD", "2026-05-22", "1.0300"},
		{"JPY", "2026-05-22", "0.050727"},
		{"KRW", "2026-05-21", "0.005400"},
		{"EUR", "2026-05-18", ""},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base != tt.base || s.AsOf.Format(time.DateOnly) != tt.day {
					continue
				}
				if len(s.Rates) != 1 || s.Rates[0].Quote != amcm.Home {
					t.Fatalf("rates = %v, want one against MOP", s.Rates)
				}
				if got := fx.Exact(s.Rates[0].Value); tt.want != "" && got != tt.want {
					t.Fatalf("%s MOP = %s, want %s", tt.base, got, tt.want)
				}
				if want := providertest.Day(tt.day).Add(3 * time.Hour); !s.AsOf.Equal(want) {
					t.Fatalf("as_of = %s, want %s", s.AsOf, want)
				}
				return
			}
			t.Fatalf("no %s on %s", tt.base, tt.day)
		})
	}
	if len(sets) != 5*17 { // 17 currencies (LIQ skipped) on 5 days
		t.Fatalf("sets = %d, want %d", len(sets), 5*17)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Maintenance</body></html>`},
		{"no data", `{"message":"OK","code":0,"type":"Success"}`},
		{"other shape", `{"data":{"rates":[]}}`},
		{"bad date", `{"data":[{"date":"22/05/2026","currency":"USD","unit":1.0,"usdMean":"8.0705"}]}`},
		{"no mean", `{"data":[{"date":"2026-05-22 00:00:00","currency":"USD","unit":1.0}]}`},
		{"fractional unit", `{"data":[{"date":"2026-05-22 00:00:00","currency":"USD","unit":1.5,"usdMean":"8.0705"}]}`},
		{"text rate", `{"data":[{"date":"2026-05-22 00:00:00","currency":"USD","unit":1.0,"usdMean":"-"}]}`},
		{"only LIQ", `{"data":[{"date":"2026-05-22 00:00:00","currency":"LIQ","unit":0.0,"usdMean":"0.0000"}]}`},
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
				t.Fatalf("sets returned with the error: %v", sets)
			}
		})
	}
}

// TestHistoryRequests checks one request for any range and none for a
// reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-05-20", "2026-05-20", 17},
		{"a weekend", "2026-05-23", "2026-05-24", 0},
		{"the week", "2026-05-18", "2026-05-22", 5 * 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, providertest.ReadFile(t, recording))
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
		c, n, _ := serve(t, providertest.ReadFile(t, recording))
		_, err := c.History(context.Background(), providertest.Day("2026-05-22"), providertest.Day("2026-05-20"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
