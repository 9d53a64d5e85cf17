package dnb_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/dnb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*dnb.Client)(nil)

// recording is StatBank's DNVALD BULK answer for 30 currencies, rate type
// KBH, cut to its last three banking days, 2026-03-27 to 2026-03-31 (see
// testdata/dnb/SOURCE.md).
const recording = "../../../testdata/dnb/DNVALD-KBH.csv"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers DNVALD with payload, counting requests and
// keeping the last query.
func serve(t *testing.T, payload []byte) (*dnb.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		if r.URL.Path != "/v1/data/DNVALD/BULK" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Write(payload)
	})
	c := dnb.NewClient(srv.URL+"/v1/", srv.Client())
	dnb.SetClock(c, func() time.Time { return time.Date(2026, 4, 4, 10, 14, 0, 0, time.UTC) })
	return c, n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 2026M03D31
// USD is 649.9400 kroner per 100 dollars, so latest.golden reads "USD DKK
// 6.499400" (every digit kept), EUR 747.3000 reads 7.473000 (the krone's
// ERM II central rate is 7.46038), IDR 0.0383 reads 0.000383. BGN's ".."
// is no rate. 17:00 in Copenhagen on 31 March (CEST, UTC+2) is 15:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*dnb.Client) ([]fx.RateSet, error)
		wantTid      string
	}{
		{"latest", "latest.golden", func(c *dnb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, ">=2026M03D21"},
		{"history", "history.golden", func(c *dnb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-27"), providertest.Day("2026-03-30"))
		}, ">=2026M03D27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, q := serve(t, fixture(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1 (StatBank serves ranges)", got)
			}
			v := q.Load().(url.Values)
			if v.Get("Tid") != tt.wantTid || v.Get("KURTYP") != "KBH" || v.Get("valuePresentation") != "Code" {
				t.Fatalf("query = %v, want Tid %s", v, tt.wantTid)
			}
			if got := len(strings.Split(v.Get("VALUTA"), ",")); got != 30 {
				t.Fatalf("currencies asked = %d, want 30", got)
			}
		})
	}
}

func TestHistoryRange(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
	}{
		{"one day", "2026-03-30", "2026-03-30", 1},
		{"whole recording", "2026-03-01", "2026-04-03", 3},
		{"weekend only", "2026-03-28", "2026-03-29", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			dates := map[string]bool{}
			for _, s := range sets {
				dates[s.AsOf.Format(time.DateOnly)] = true
				if len(s.Rates) != 1 || s.Rates[0].Quote != "DKK" || s.Base == "BGN" {
					t.Fatalf("set %+v", s)
				}
			}
			if len(dates) != tt.dates {
				t.Fatalf("dates = %v, want %d", dates, tt.dates)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = "VALUTA;KURTYP;TID;INDHOLD\r\n"
	tests := []struct {
		name, payload string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"json error", `{"errorTypeCode":"EXTRACT-NOTALLOWED","message":"bad request"}`},
		{"empty body", ""},
		{"header only", head},
		{"another rate type", head + "USD;KBS;2026M03D31;690.5100\r\n"},
		{"bad date", head + "USD;KBH;2026-03-31;690.5100\r\n"},
		{"text value", head + "USD;KBH;2026M03D31;n/a\r\n"},
		{"zero value", head + "USD;KBH;2026M03D31;0.0000\r\n"},
		{"only missing marks", head + "BGN;KBH;2026M03D31;..\r\n"},
		{"only a non-ISO code", head + "QQQ;KBH;2026M03D31;100.0000\r\n"},
		{"short row", head + "USD;KBH;2026M03D31\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload))
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
