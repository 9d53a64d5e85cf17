package nbe_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbe"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbe.Client)(nil)

func recording(t *testing.T, day string) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/nbe/filter-exchange-rates-"+day+".json")
}

// empty is the shape of an answer for a date without rates.
const empty = `{"success":true,"message":"OK","status":200,"data":[]}`

// serve stands in for the NBE's API: a GET of filter-exchange-rates for
// one of the recorded dates answers its recording (or, given payload,
// payload), any other date an answer without rows. The clock reads
// 2026-05-21 in Addis Ababa. It counts the requests.
func serve(t *testing.T, payload []byte) (*nbe.Client, *atomic.Int32) {
	t.Helper()
	recorded := map[string][]byte{}
	for _, d := range []string{"2026-05-18", "2026-05-19", "2026-05-20"} {
		recorded[d] = recording(t, d)
	}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/filter-exchange-rates" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if payload != nil {
			w.Write(payload)
			return
		}
		if b, ok := recorded[r.URL.Query().Get("date")]; ok {
			w.Write(b)
			return
		}
		w.Write([]byte(empty))
	})
	c := nbe.NewClient(srv.URL, srv.Client())
	nbe.SetClock(c, func() time.Time { return time.Date(2026, 5, 21, 6, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks the parsed recordings against the golden files.
// Checked by hand against the raw recordings: 2026-05-18's US DOLLAR
// "weighted_average":"157.227" is golden "USD ETB 157.227" (birr per
// dollar); JAPANESE YEN 0.9965 is "JPY ETB 0.9965" (per ONE yen: USD/JPY
// = 157.227/0.9965 ≈ 158, right for 2026); SDR (code XDR) is kept. as_of
// 13:00 in Addis Ababa (UTC+3) = 10:00 UTC. Latest asks 2026-05-21 (no
// rows) before 2026-05-20.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		golden   string
		latest   bool
		requests int32
	}{
		{"latest", "latest.golden", true, 2},
		{"history", "history.golden", false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
			var sets []fx.RateSet
			var err error
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2026-05-16"), providertest.Day("2026-05-20"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestValues(t *testing.T) {
	sets, err := nbe.Parse(recording(t, "2026-05-19"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 19 {
		t.Fatalf("sets = %d, want 19", len(sets))
	}
	want := map[string]string{"JPY": "0.9944", "KWD": "515.0879", "XDR": "216.2677"}
	for _, s := range sets {
		if !s.AsOf.Equal(time.Date(2026, 5, 19, 10, 0, 0, 0, time.UTC)) || s.Rates[0].Quote != "ETB" {
			t.Fatalf("%s set at %s quotes %s", s.Base, s.AsOf, s.Rates[0].Quote)
		}
		if w, ok := want[s.Base]; ok {
			if got := fx.Exact(s.Rates[0].Value); got != w {
				t.Errorf("%sETB = %s, want %s", s.Base, got, w)
			}
			delete(want, s.Base)
		}
	}
	if len(want) > 0 {
		t.Fatalf("missing %v", want)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>National Bank of Ethiopia</body></html>`},
		{"empty JSON", `{}`},
		{"refused", `{"success":false,"message":"error","data":[]}`},
		{"no weighted average", `{"success":true,"data":[{"date":"2026-05-20","buying":"157.1","selling":"158.7","currency":{"code":"USD"}}]}`},
		{"text rate", `{"success":true,"data":[{"date":"2026-05-20","weighted_average":"-","currency":{"code":"USD"}}]}`},
		{"bad date", `{"success":true,"data":[{"date":"20/05/2026","weighted_average":"157.1","currency":{"code":"USD"}}]}`},
		{"two dates", `{"success":true,"data":[{"date":"2026-05-20","weighted_average":"157.1","currency":{"code":"USD"}},{"date":"2026-05-19","weighted_average":"183.8","currency":{"code":"EUR"}}]}`},
		{"no code", `{"success":true,"data":[{"date":"2026-05-20","weighted_average":"157.1","currency":{"name":"US DOLLAR"}}]}`},
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

// TestHistoryRequests checks one request per weekday of the range (a date
// without rows is skipped), and none for a reversed range or a weekend.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		requests int32
		sets     int
	}{
		{"one day", "2026-05-19", "2026-05-19", 1, 19},
		{"a weekend", "2026-05-16", "2026-05-17", 0, 0},
		{"the week", "2026-05-18", "2026-05-24", 5, 3 * 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
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
		c, n := serve(t, nil)
		_, err := c.History(context.Background(), providertest.Day("2026-05-20"), providertest.Day("2026-05-18"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
