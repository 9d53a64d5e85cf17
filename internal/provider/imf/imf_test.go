package imf_test

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
	"ces/internal/provider/imf"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*imf.Client)(nil)

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/imf/rms_mth_REP_2026-03.tsv")
}

// serve answers rms_mth.aspx with payload for a REP report of March 2026
// (404 otherwise), counting requests.
func serve(t *testing.T, payload []byte) (*imf.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/external/np/fin/data/rms_mth.aspx" || q.Get("reportType") != "REP" ||
			q.Get("tsvflag") != "Y" || !strings.HasPrefix(q.Get("SelectDate"), "2026-03-") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.ms-excel")
		w.Write(payload)
	})
	c := imf.NewClient(srv.URL+"/external/np/fin/data/", srv.Client())
	// 2026-03-31 20:00 in Washington, the recording's last date.
	imf.SetClock(c, func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording, March 02, 2026 (as_of 23:00 UTC, 18:00
// EST): "Chinese yuan 6.882900" is yuan per dollar, USD/CNY 6.882900;
// "Euro(1) 1.169800" is dollars per euro, EUR/USD 1.169800 (not
// inverted); "Botswana pula(1) 0.077200" is BWP/USD 0.077200. "Korean won
// NA" that day is absent; on March 03, "1,435.400000" is USD/KRW
// 1435.400000. From March 09 (EDT) as_of is 22:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		call func(c *imf.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", func(c *imf.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", func(c *imf.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-01"), providertest.Day("2026-03-10"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
			for _, s := range sets {
				if s.Provider != imf.Name || len(s.PayloadHash) != 64 || (s.Base != "USD" && (len(s.Rates) != 1 || s.Rates[0].Quote != "USD")) {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = "Representative Exchange Rates for Selected Currencies for March 2026\r\nCurrency\tMarch 02, 2026\tMarch 03, 2026\r\n"
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"empty", ""},
		{"no header", "Chinese yuan\t6.882900\t6.897100\r\n"},
		{"bad header date", "Currency\t2026-03-02\r\nChinese yuan\t6.882900\r\n"},
		{"short row", head + "Chinese yuan\t6.882900\r\n"},
		{"text rate", head + "Chinese yuan\t6.882900\tn/a\r\n"},
		{"zero rate", head + "Chinese yuan\t0.000000\t6.897100\r\n"},
		{"twice", head + "Chinese yuan\t6.882900\t6.897100\r\nChinese yuan\t6.882900\t6.897100\r\n"},
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
				t.Fatalf("sets = %v, want none", sets)
			}
		})
	}
}

func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
		wantType string
	}{
		{"the whole month", "2026-03-01", "2026-03-31", 22, ""},
		{"one date", "2026-03-17", "2026-03-17", 1, ""},
		{"a weekend", "2026-03-07", "2026-03-08", 0, ""},
		{"reversed", "2026-03-10", "2026-03-02", 0, provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if tt.wantType != "" {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType || n.Load() != 0 {
					t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), tt.wantType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// One request per month: the report serves a month.
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
			days := map[string]bool{}
			for _, s := range sets {
				days[s.AsOf.Format(time.DateOnly)] = true
			}
			if len(days) != tt.dates {
				t.Fatalf("dates = %d, want %d", len(days), tt.dates)
			}
		})
	}
}
