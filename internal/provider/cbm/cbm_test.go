package cbm_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cbm"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbm.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/cbm/latest.json")
}

// serve stands in for the CBM's forex API: /latest and
// /history/09-04-2026 answer payload (the recording is of 2026-04-09),
// any other date 404. It counts the requests.
func serve(t *testing.T, payload []byte) (*cbm.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || (r.URL.Path != "/latest" && r.URL.Path != "/history/09-04-2026") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(payload)
	})
	return cbm.NewClient(srv.URL, srv.Client()), n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: "USD":"2100.00" is golden "USD MMK
// 2100.00" (kyat per dollar); "JPY":"1321.88" is "JPY MMK 13.2188" (per
// ONE yen, the CBM quoting per 100: USD/JPY = 2100/13.2188 ≈ 159, right
// for 2026), as are KRW (1.4181, ≈ 1481 per dollar), IDR, KHR, VND and
// LAK; "CZK":"100.44" stays per 1 koruna (≈ 20.9 per dollar). The
// timestamp 1775721600 (2026-04-09 in Yangon) dates it 10:30 in Yangon
// (UTC+6:30) = 04:00 UTC.
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
			c, n := serve(t, recording(t))
			var sets []fx.RateSet
			var err error
			want := int32(1)
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2026-04-08"), providertest.Day("2026-04-10"))
				want = 3
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != want {
				t.Fatalf("requests = %d, want %d", n.Load(), want)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestValues(t *testing.T) {
	sets, err := cbm.Parse(recording(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 38 {
		t.Fatalf("sets = %d, want 38", len(sets))
	}
	want := map[string]string{"USD": "2100.00", "JPY": "13.2188", "KRW": "1.4181", "VND": "0.0798", "LAK": "0.0952", "CZK": "100.44", "NPR": "14.16"}
	for _, s := range sets {
		if !s.AsOf.Equal(time.Date(2026, 4, 9, 4, 0, 0, 0, time.UTC)) || s.Rates[0].Quote != "MMK" {
			t.Fatalf("%s set at %s quotes %s", s.Base, s.AsOf, s.Rates[0].Quote)
		}
		if w, ok := want[s.Base]; ok {
			if got := fx.Exact(s.Rates[0].Value); got != w {
				t.Errorf("%sMMK = %s, want %s", s.Base, got, w)
			}
			delete(want, s.Base)
		}
	}
	if len(want) > 0 {
		t.Fatalf("missing %v", want)
	}
}

func TestGroupedThousands(t *testing.T) {
	sets, err := cbm.Parse([]byte(`{"timestamp":1775721600,"rates":{"USD":"2,100.0","JPY":"1,321.88"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := providertest.Render(sets); string(got) != "2026-04-09T04:00:00Z JPY MMK 13.2188\n2026-04-09T04:00:00Z USD MMK 2100.0\n" {
		t.Fatalf("got %s", got)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Central Bank of Myanmar</body></html>`},
		{"empty JSON", `{}`},
		{"no timestamp", `{"rates":{"USD":"2100.00"}}`},
		{"bad timestamp", `{"timestamp":"yesterday","rates":{"USD":"2100.00"}}`},
		{"no rates", `{"timestamp":"1775721600","rates":{}}`},
		{"text rate", `{"timestamp":"1775721600","rates":{"USD":"n/a"}}`},
		{"misgrouped", `{"timestamp":"1775721600","rates":{"USD":"21,00.00"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
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

// TestHistoryRequests checks one request per weekday of the range (a
// date the CBM has not published, 404, is skipped), and none for a
// reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		requests int32
		sets     int
	}{
		{"the recorded day", "2026-04-09", "2026-04-09", 1, 38},
		{"a week", "2026-04-06", "2026-04-12", 5, 38},
		{"a weekend", "2026-04-11", "2026-04-12", 0, 0},
		{"unpublished days", "2026-04-13", "2026-04-14", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after %d", len(sets), n.Load(), tt.sets, tt.requests)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-04-10"), providertest.Day("2026-04-08"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
