package fbil_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/fbil"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*fbil.Client)(nil)

const recording = "../../../testdata/fbil/fetchfiltered-2026-03-17-2026-03-21.json"

// serve answers fetchfiltered with answer (the recording when nil) and
// counts the requests.
func serve(t *testing.T, answer []byte) (*fbil.Client, *atomic.Int32) {
	t.Helper()
	if answer == nil {
		answer = providertest.ReadFile(t, recording)
	}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		_, errFrom := time.Parse(time.DateOnly, q.Get("fromDate"))
		_, errTo := time.Parse(time.DateOnly, q.Get("toDate"))
		if r.URL.Path != "/wasdm/refrates/fetchfiltered" || q.Get("authenticated") != "false" || errFrom != nil || errTo != nil {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	return fbil.NewClient(srv.URL+"/wasdm/refrates/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording, 2026-03-20: "INR / 1 USD" 93.348300 gives
// USD→INR 93.348300; "INR / 100 JPY" 58.940000 gives JPY→INR 0.58940000
// per ONE yen; "INR / 10000 IDR" 55.107900 gives IDR→INR 0.0055107900
// per one rupiah; display time 13:00 IST (UTC+5:30) is 07:30 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *fbil.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *fbil.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 6},
		{"history", "history.golden", func(c *fbil.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-17"), providertest.Day("2026-03-21"))
		}, 18},
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
				if s.Provider != fbil.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "INR" || len(s.PayloadHash) != 64 {
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
		{"empty array", "[]"},
		{"unit not a power of ten", `[{"processRunDate":"2026-03-20 00:00:00","subProdName":"INR / 3 JPY","displayTime":"2026-03-20 13:00:00","rate":1.7,"comments":""}]`},
		{"no rate", `[{"processRunDate":"2026-03-20 00:00:00","subProdName":"INR / 1 USD","displayTime":"2026-03-20 13:00:00","comments":""}]`},
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

// TestHistoryRequests checks that any range costs one request.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-18", "2026-03-18", 6},
		{"whole recording", "2026-03-01", "2026-03-31", 18},
		{"a day without fixing", "2026-03-19", "2026-03-19", 0},
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
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1", got)
			}
		})
	}
}
