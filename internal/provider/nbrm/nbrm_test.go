package nbrm_test

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
	"ces/internal/provider/nbrm"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbrm.Client)(nil)

// recording is the service's answer for 1 March to 29 May 2026 cut to
// the days 22 to 28 May (see testdata/nbrm/SOURCE.md): the lists formed
// on 21, 22, 26 and 27 May, the one of Friday the 22nd applying to the
// 23rd to the 26th (no list was formed on Monday the 25th).
const recording = "../../../testdata/nbrm/GetExchangeRate-22.05.2026-28.05.2026.json"

// serve answers GetExchangeRate with payload, counting requests and
// keeping the last query.
func serve(t *testing.T, payload []byte, now time.Time) (*nbrm.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		if r.URL.Path != "/GetExchangeRate" || r.URL.Query().Get("format") != "json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	c := nbrm.NewClient(srv.URL, srv.Client())
	nbrm.SetClock(c, func() time.Time { return now })
	return c, n, &query
}

var recorded = time.Date(2026, 5, 28, 12, 0, 0, 0, time.UTC)

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: the list formed
// on 27 May 2026 (applying on the 28th) has EUR sreden 61.6948 and USD
// 53.0161 (denars per unit; the denar is held near 61.5 per euro), golden
// "EUR MKD 61.6948"; JPY 0.3326 is per one yen (53.0161/0.3326 ≈ 159 yen
// per dollar). Formed days are dated 16:00 UTC; at 12:00 UTC on the 28th
// the newest list is the 27th's.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden     string
		call             func(*nbrm.Client) ([]fx.RateSet, error)
		wantFrom, wantTo string
	}{
		{"latest", "latest.golden", func(c *nbrm.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "14.05.2026", "29.05.2026"},
		{"history", "history.golden", func(c *nbrm.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-05-22"), providertest.Day("2026-05-26"))
		}, "23.05.2026", "27.05.2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, q := serve(t, providertest.ReadFile(t, recording), recorded)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (the service serves ranges)", got)
			}
			v := q.Load().(url.Values)
			if v.Get("StartDate") != tt.wantFrom || v.Get("EndDate") != tt.wantTo {
				t.Fatalf("query = %v, want StartDate=%s EndDate=%s", v, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestValues(t *testing.T) {
	sets, err := nbrm.Parse(providertest.ReadFile(t, recording))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4*31 { // four lists of 31 currencies
		t.Fatalf("sets = %d, want %d", len(sets), 4*31)
	}
	tests := []struct{ base, formed, want string }{
		{"EUR", "2026-05-27", "61.6948"},
		{"USD", "2026-05-27", "53.0161"},
		{"JPY", "2026-05-27", "0.3326"},
		{"EUR", "2026-05-22", "61.6945"}, // repeated under the 23rd to the 26th
		{"RSD", "2026-05-21", "0.5255"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.formed, func(t *testing.T) {
			for _, s := range sets {
				if s.Base != tt.base || s.AsOf.Format(time.DateOnly) != tt.formed {
					continue
				}
				if len(s.Rates) != 1 || s.Rates[0].Quote != nbrm.Home {
					t.Fatalf("rates = %v, want one against MKD", s.Rates)
				}
				if got := fx.Exact(s.Rates[0].Value); tt.want != "" && got != tt.want {
					t.Fatalf("%s MKD = %s, want %s", tt.base, got, tt.want)
				}
				if want := providertest.Day(tt.formed).Add(16 * time.Hour); !s.AsOf.Equal(want) {
					t.Fatalf("as_of = %s, want %s", s.AsOf, want)
				}
				return
			}
			t.Fatalf("no %s formed on %s", tt.base, tt.formed)
		})
	}
}

// TestLatest checks Latest never returns a list before its as_of.
func TestLatest(t *testing.T) {
	tests := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 5, 27, 15, 59, 0, 0, time.UTC), "2026-05-26"},
		{time.Date(2026, 5, 27, 16, 0, 0, 0, time.UTC), "2026-05-27"},
		{time.Date(2026, 5, 30, 14, 0, 0, 0, time.UTC), "2026-05-27"},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339), func(t *testing.T) {
			c, _, _ := serve(t, providertest.ReadFile(t, recording), tt.now)
			sets, err := c.Latest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != 31 || sets[0].AsOf.Format(time.DateOnly) != tt.want {
				t.Fatalf("%d sets of %s, want 31 of %s", len(sets), sets[0].AsOf, tt.want)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Сервисот не е достапен</body></html>`},
		{"an object", `{"Message":"An error has occurred."}`},
		{"no lists", `[]`},
		{"bad formation date", `[{"datum":"2026-05-28T00:00:00","oznaka":"EUR","nomin":1,"sreden":61.6951,"datum_f":"27.05.2026"}]`},
		{"no middle rate", `[{"datum":"2026-05-28T00:00:00","oznaka":"EUR","nomin":1,"datum_f":"2026-05-27T00:00:00"}]`},
		{"fractional units", `[{"datum":"2026-05-28T00:00:00","oznaka":"EUR","nomin":1.5,"sreden":61.6951,"datum_f":"2026-05-27T00:00:00"}]`},
		{"text rate", `[{"datum":"2026-05-28T00:00:00","oznaka":"EUR","nomin":1,"sreden":"61,6951","datum_f":"2026-05-27T00:00:00"}]`},
		{"a list repeated with another value", `[{"datum":"2026-05-23T00:00:00","oznaka":"EUR","nomin":1,"sreden":61.6951,"datum_f":"2026-05-22T00:00:00"},` +
			`{"datum":"2026-05-24T00:00:00","oznaka":"EUR","nomin":1,"sreden":61.7,"datum_f":"2026-05-22T00:00:00"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload), recorded)
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

// TestHistoryRequests checks one request for any range, lists counted by
// the day they were formed, and none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"a list repeated over a weekend and a holiday", "2026-05-22", "2026-05-22", 31},
		{"days no list was formed", "2026-05-23", "2026-05-25", 0},
		{"everything", "2026-05-01", "2026-05-31", 4 * 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, providertest.ReadFile(t, recording), recorded)
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
		c, n, _ := serve(t, providertest.ReadFile(t, recording), recorded)
		_, err := c.History(context.Background(), providertest.Day("2026-05-27"), providertest.Day("2026-05-22"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
