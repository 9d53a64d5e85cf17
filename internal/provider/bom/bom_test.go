package bom_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bom"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bom.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/bom/data-2026-05-19-to-2026-05-22.json")
}

// serve stands in for the Bank of Mongolia's data endpoint: a JSON POST
// naming a startDate and an endDate answers payload. It counts the
// requests and records the last range asked for.
func serve(t *testing.T, payload []byte) (*bom.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var asked atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		var q struct{ StartDate, EndDate string }
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/currency-rate-movement/data" ||
			r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &q) != nil || q.StartDate == "" || q.EndDate == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		asked.Store(q.StartDate + ".." + q.EndDate)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	c := bom.NewClient(srv.URL, srv.Client())
	bom.SetClock(c, func() time.Time { return time.Date(2026, 5, 22, 12, 52, 0, 0, time.UTC) })
	return c, n, &asked
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: 2026-05-22's "USD":"3,576.42" is
// golden "USD MNT 3576.42" (tögrög per dollar, the commas only group
// thousands); "JPY":"22.47" is "JPY MNT 22.47" (per ONE yen: USD/JPY =
// 3576.42/22.47 ≈ 159, right for 2026); XAU and XAG (per ounce) and SDR
// are skipped. as_of 10:00 in Ulaanbaatar (UTC+8) = 02:00 UTC.
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
			c, n, _ := serve(t, recording(t))
			var sets []fx.RateSet
			var err error
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2026-05-19"), providertest.Day("2026-05-22"))
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

func TestValues(t *testing.T) {
	sets, err := bom.Parse(recording(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4*35 { // 38 columns less XAU, XAG and SDR, per date
		t.Fatalf("sets = %d, want %d", len(sets), 4*35)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-05-22", "3576.42"},
		{"KWD", "2026-05-22", "11657.17"},
		{"IDR", "2026-05-22", "0.20"},
		{"USD", "2026-05-19", "3575.99"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Equal(providertest.Day(tt.day).Add(2*time.Hour)) {
					if got := fx.Exact(s.Rates[0].Value); s.Rates[0].Quote != "MNT" || got != tt.want {
						t.Fatalf("%s%s = %s, want MNT %s", tt.base, s.Rates[0].Quote, got, tt.want)
					}
					return
				}
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
		{"html page", `<html><body>Currency rate movement</body></html>`},
		{"empty JSON", `{}`},
		{"refused", `{"success":false,"data":[]}`},
		{"no date", `{"success":true,"data":[{"USD":"3,576.42"}]}`},
		{"bad date", `{"success":true,"data":[{"RATE_DATE":"22/05/2026","USD":"3,576.42"}]}`},
		{"misgrouped", `{"success":true,"data":[{"RATE_DATE":"2026-05-22","USD":"35,76.42"}]}`},
		{"number not text", `{"success":true,"data":[{"RATE_DATE":"2026-05-22","USD":3576.42}]}`},
		{"only metals", `{"success":true,"data":[{"RATE_DATE":"2026-05-22","XAU":"16,172,267.24"}]}`},
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

// TestHistoryRequests checks one request naming the range asked for, and
// none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-05-20", "2026-05-20", 35},
		{"the recording", "2026-05-19", "2026-05-22", 4 * 35},
		{"two days", "2026-05-21", "2026-05-22", 2 * 35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 || len(sets) != tt.sets || asked.Load() != tt.from+".."+tt.to {
				t.Fatalf("%d sets after %d requests for %v, want %d after 1", len(sets), n.Load(), asked.Load(), tt.sets)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-05-22"), providertest.Day("2026-05-19"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
