package bnm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bnm"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bnm.Client)(nil)

const recordings = "../../../testdata/bnm"

var monthPath = regexp.MustCompile(`^/public/exchange-rate/([A-Z]{3})/year/(\d{4})/month/(\d{1,2})$`)

// serve replays the recording: the latest rates at /public/exchange-rate,
// each currency's month at its path (404 for a month not recorded), or
// answer for every request when it is set. It counts the requests and
// rejects any without BNM's Accept header or the 09:00 session.
func serve(t *testing.T, answer []byte) (*bnm.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/vnd.BNM.API.v1+json" || r.URL.Query().Get("session") != "0900" {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if answer != nil {
			w.Write(answer)
			return
		}
		file := "exchange-rate.json"
		if m := monthPath.FindStringSubmatch(r.URL.Path); m != nil {
			file = fmt.Sprintf("exchange-rate-%s-%s-%02s.json", m[1], m[2], m[3])
		} else if r.URL.Path != "/public/exchange-rate" {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(recordings, file))
		if err != nil {
			http.Error(w, `{"message":"No records found."}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	return bnm.NewClient(srv.URL+"/public/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording, 2026-03-19: USD unit 1 middle
// 3.9300000000000002 is 3.93 ringgit per dollar; JPY unit 100 middle
// 2.4596 is 0.024596 per ONE yen; IDR unit 100 middle 0.023099999999999999
// is 0.000231 per rupiah; SDR is stored as XDR (5.3538); as_of 17:00 in
// Kuala Lumpur (UTC+8) is 09:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *bnm.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *bnm.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 27},
		{"history", "history.golden", func(c *bnm.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-17"), providertest.Day("2026-03-18"))
		}, 54},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, nil)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			for _, s := range sets {
				if s.Provider != bnm.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "MYR" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestInvalidPayload(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"empty object", "{}"},
		{"empty data", `{"data":[],"meta":{"quote":"rm","session":"0900"}}`},
		{"another session", `{"data":[{"currency_code":"USD","unit":1,"rate":{"date":"2026-03-19","buying_rate":3.927,"selling_rate":3.933,"middle_rate":3.93}}],"meta":{"quote":"rm","session":"1700"}}`},
		{"unit not a power of ten", `{"data":[{"currency_code":"JPY","unit":3,"rate":{"date":"2026-03-19","buying_rate":null,"selling_rate":null,"middle_rate":0.07}}],"meta":{"quote":"rm","session":"0900"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.body))
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

// TestHistoryRequests checks that a range costs one request per currency
// per calendar month it touches, and that a month the API lacks is empty.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
		requests int
	}{
		{"one day", "2026-03-18", "2026-03-18", 27, 27},
		{"whole month", "2026-03-01", "2026-03-31", 14 * 27, 27},
		{"two months, one recorded", "2026-02-20", "2026-03-02", 27, 54},
		{"a weekend", "2026-03-14", "2026-03-15", 0, 27},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			if got := int(n.Load()); got != tt.requests {
				t.Fatalf("requests = %d, want %d", got, tt.requests)
			}
		})
	}
}
