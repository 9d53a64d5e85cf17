package hkma_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/hkma"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*hkma.Client)(nil)

// recording is the API's answer for 25 to 28 February 2026 (see
// testdata/hkma/SOURCE.md).
const recording = "../../../testdata/hkma/er-eeri-daily-2026-02-25-to-2026-02-28.json"

// serve answers the er-eeri-daily table with payload(offset), counting
// requests and keeping the last query.
func serve(t *testing.T, payload func(offset int) []byte) (*hkma.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		query.Store(q)
		if r.URL.Path != "/market-data-and-statistics/monthly-statistical-bulletin/er-ir/er-eeri-daily" || q.Get("choose") != "end_of_day" {
			http.NotFound(w, r)
			return
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload(offset))
	})
	c := hkma.NewClient(srv.URL, srv.Client())
	hkma.SetClock(c, func() time.Time { return time.Date(2026, 3, 30, 20, 28, 0, 0, time.UTC) })
	return c, n, &query
}

func fixed(b []byte) func(int) []byte { return func(int) []byte { return b } }

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 27 Feb 2026
// usd is 7.825 (Hong Kong dollars per dollar, inside the 7.75-7.85 band),
// golden "USD HKD 7.825"; jpy 0.05015 is per one yen (USD/JPY =
// 7.825/0.05015 ≈ 156); on 28 Feb usd 7.8245000000000005 is "USD HKD
// 7.8245" (float printing noise dropped) and special_drawing_rights is
// null, so no XDR that day. 17:00 in Hong Kong is 09:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden     string
		call             func(*hkma.Client) ([]fx.RateSet, error)
		wantFrom, wantTo string
	}{
		{"latest", "latest.golden", func(c *hkma.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "2026-01-20", "2026-03-31"},
		{"history", "history.golden", func(c *hkma.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-02-25"), providertest.Day("2026-02-27"))
		}, "2026-02-25", "2026-02-27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, q := serve(t, fixed(providertest.ReadFile(t, recording)))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (the API serves ranges)", got)
			}
			v := q.Load().(url.Values)
			if v.Get("from") != tt.wantFrom || v.Get("to") != tt.wantTo || v.Get("offset") != "0" {
				t.Fatalf("query = %v, want from=%s to=%s offset=0", v, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestValues(t *testing.T) {
	sets, n, err := hkma.Parse(providertest.ReadFile(t, recording))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("records = %d, want 4", n)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-02-28", "7.8245"},
		{"USD", "2026-02-27", "7.825"},
		{"JPY", "2026-02-27", "0.05015"},
		{"KRW", "2026-02-26", "0.005485"},
		{"IDR", "2026-02-25", "0.0004659"},
		{"EUR", "2026-02-25", "9.235"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base != tt.base || s.AsOf.Format(time.DateOnly) != tt.day {
					continue
				}
				if len(s.Rates) != 1 || s.Rates[0].Quote != hkma.Home {
					t.Fatalf("rates = %v, want one against HKD", s.Rates)
				}
				if got := fx.Exact(s.Rates[0].Value); got != tt.want {
					t.Fatalf("%s HKD = %s, want %s", tt.base, got, tt.want)
				}
				if want := providertest.Day(tt.day).Add(9 * time.Hour); !s.AsOf.Equal(want) {
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
		{"html page", `<html><body>Not Found</body></html>`},
		{"other shape", `{"data":[]}`},
		{"api error", `{"header":{"success":false,"err_code":"1003","err_msg":"Invalid parameter"},"result":{"datasize":0,"records":[]}}`},
		{"no records", `{"header":{"success":true,"err_code":"0000","err_msg":"No error found"},"result":{"datasize":0}}`},
		{"bad date", `{"header":{"success":true},"result":{"records":[{"end_of_day":"28/02/2026","usd":7.8245}]}}`},
		{"text rate", `{"header":{"success":true},"result":{"records":[{"end_of_day":"2026-02-28","usd":"n/a"}]}}`},
		{"negative rate", `{"header":{"success":true},"result":{"records":[{"end_of_day":"2026-02-28","usd":-7.8}]}}`},
		{"a day without rates", `{"header":{"success":true},"result":{"records":[{"end_of_day":"2026-02-28","usd":null,"neeri_2020_trade_wgt":101.2}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, fixed([]byte(tt.payload)))
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

// record is one day of a synthetic table: every day's dollar at 7.8.
func record(day time.Time) string {
	return fmt.Sprintf(`{"end_of_day":%q,"usd":7.8,"neeri_2020_trade_wgt":101.2}`, day.Format(time.DateOnly))
}

// TestHistoryRequests checks one request per page of 100 records (a page
// short of 100 is the last), none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	// 250 days from 2025-06-01 backwards, newest first, as the API pages.
	days := make([]time.Time, 250)
	for i := range days {
		days[i] = providertest.Day("2025-06-01").AddDate(0, 0, -i)
	}
	pages := func(offset int) []byte {
		b := []byte(`{"header":{"success":true,"err_code":"0000","err_msg":"No error found"},"result":{"datasize":0,"records":[`)
		for i := offset; i < offset+100 && i < len(days); i++ {
			if i > offset {
				b = append(b, ',')
			}
			b = append(b, record(days[i])...)
		}
		return append(b, "]}}"...)
	}
	c, n, _ := serve(t, pages)
	sets, err := c.History(context.Background(), days[len(days)-1], days[0])
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 || len(sets) != 250 {
		t.Fatalf("%d sets after %d requests, want 250 after 3", len(sets), n.Load())
	}
	t.Run("the recording is one page", func(t *testing.T) {
		c, n, _ := serve(t, fixed(providertest.ReadFile(t, recording)))
		sets, err := c.History(context.Background(), providertest.Day("2026-02-01"), providertest.Day("2026-02-28"))
		if err != nil {
			t.Fatal(err)
		}
		if n.Load() != 1 || len(sets) == 0 {
			t.Fatalf("%d sets after %d requests, want some after 1", len(sets), n.Load())
		}
	})
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, fixed(providertest.ReadFile(t, recording)))
		_, err := c.History(context.Background(), providertest.Day("2026-02-28"), providertest.Day("2026-02-25"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
