package nrb_test

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
	"ces/internal/provider/nrb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nrb.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/nrb/rates-2026-04-01-to-2026-04-05.json")
}

// serve stands in for the NRB's forex API: a GET of the rates with a
// from, a to, per_page=100 and page=1 answers payload. It counts the
// requests and records the last range asked for.
func serve(t *testing.T, payload []byte) (*nrb.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var asked atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/api/forex/v1/rates" || q.Get("from") == "" || q.Get("to") == "" ||
			q.Get("per_page") != "100" || q.Get("page") != "1" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		asked.Store(q.Get("from") + ".." + q.Get("to"))
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	})
	c := nrb.NewClient(srv.URL, srv.Client())
	nrb.SetClock(c, func() time.Time { return time.Date(2026, 4, 5, 6, 0, 0, 0, time.UTC) })
	return c, n, &asked
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: 2026-04-01's USD buy 151.44, sell
// 152.04 is golden "USD NPR 151.74" (rupees per dollar, the middle); INR
// (unit 100) 160.00/160.15 is "INR NPR 1.60075" (per ONE rupee: the peg
// of 1.6 NPR per INR); JPY (unit 10) 9.49/9.53 is "JPY NPR 0.951" (USD/JPY
// = 151.74/0.951 ≈ 160, right for 2026). as_of is published_on,
// 2026-04-01 00:00:13 in Kathmandu (UTC+5:45) = 2026-03-31T18:15:13Z.
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
				sets, err = c.History(context.Background(), providertest.Day("2026-03-31"), providertest.Day("2026-04-04"))
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
	sets, pages, err := nrb.Parse(recording(t))
	if err != nil {
		t.Fatal(err)
	}
	if pages != 1 || len(sets) != 5*22 {
		t.Fatalf("%d sets, %d pages, want %d and 1", len(sets), pages, 5*22)
	}
	tests := []struct{ base, asOf, want string }{
		{"USD", "2026-03-31T18:15:13Z", "151.74"},
		{"INR", "2026-03-31T18:15:13Z", "1.60075"},
		{"JPY", "2026-03-31T18:15:13Z", "0.951"},
		{"KRW", "2026-03-31T18:15:13Z", "0.0994"},
		{"EUR", "2026-04-01T18:15:04Z", "176.01"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.asOf, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.RFC3339) == tt.asOf {
					if got := fx.Exact(s.Rates[0].Value); s.Rates[0].Quote != "NPR" || got != tt.want {
						t.Fatalf("%s%s = %s, want NPR %s", tt.base, s.Rates[0].Quote, got, tt.want)
					}
					return
				}
			}
			t.Fatalf("no %s at %s", tt.base, tt.asOf)
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Maintenance</body></html>`},
		{"empty JSON", `{}`},
		{"no pagination", `{"data":{"payload":[]}}`},
		{"bad published_on", `{"data":{"payload":[{"date":"2026-04-01","published_on":"today","rates":[{"currency":{"iso3":"USD","unit":1},"buy":"151.44","sell":"152.04"}]}]},"pagination":{"page":1,"pages":1}}`},
		{"text rate", `{"data":{"payload":[{"date":"2026-04-01","published_on":"2026-04-01 00:00:13","rates":[{"currency":{"iso3":"USD","unit":1},"buy":"-","sell":"152.04"}]}]},"pagination":{"page":1,"pages":1}}`},
		{"odd unit", `{"data":{"payload":[{"date":"2026-04-01","published_on":"2026-04-01 00:00:13","rates":[{"currency":{"iso3":"USD","unit":3},"buy":"151.44","sell":"152.04"}]}]},"pagination":{"page":1,"pages":1}}`},
		{"no rates", `{"data":{"payload":[{"date":"2026-04-01","published_on":"2026-04-01 00:00:13","rates":[]}]},"pagination":{"page":1,"pages":1}}`},
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

// TestHistoryRequests checks one request for a range of up to 100 dates,
// asking the NRB's dates through the day after to, and none for a
// reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		asked    string
		sets     int
	}{
		{"one day", "2026-04-01", "2026-04-01", "2026-04-01..2026-04-02", 22},
		{"the recording", "2026-03-31", "2026-04-04", "2026-03-31..2026-04-05", 5 * 22},
		{"before it", "2026-03-20", "2026-03-30", "2026-03-20..2026-03-31", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 || len(sets) != tt.sets || asked.Load() != tt.asked {
				t.Fatalf("%d sets after %d requests for %v, want %d after 1 for %s", len(sets), n.Load(), asked.Load(), tt.sets, tt.asked)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-04-03"), providertest.Day("2026-04-01"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
	t.Run("a second page is asked for", func(t *testing.T) {
		page2 := strings.Replace(string(recording(t)), `"page":1,"pages":1`, `"page":2,"pages":2`, 1)
		srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page") == "2" {
				w.Write([]byte(`{"data":{"payload":[]},"pagination":{"page":2,"pages":2}}`))
				return
			}
			w.Write([]byte(strings.Replace(page2, `"page":2,"pages":2`, `"page":1,"pages":2`, 1)))
		})
		c := nrb.NewClient(srv.URL, srv.Client())
		sets, err := c.History(context.Background(), providertest.Day("2026-03-31"), providertest.Day("2026-04-04"))
		if err != nil || n.Load() != 2 || len(sets) != 5*22 {
			t.Fatalf("%d sets after %d requests, err %v", len(sets), n.Load(), err)
		}
	})
}
