package boe_test

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
	"ces/internal/provider/boe"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*boe.Client)(nil)

// recording is the database's CSV export of the 26 XUDL series from
// 17 Mar 2026 to 20 Mar 2026 (see testdata/boe/SOURCE.md).
const recording = "../../../testdata/boe/xudl-2026-03-17-to-2026-03-20.csv"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers the export page with payload, counting requests and
// keeping the last query.
func serve(t *testing.T, payload []byte) (*boe.Client, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var query atomic.Value
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.Query())
		if r.URL.Path != "/boeapps/database/_iadb-fromshowcolumns.asp" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/csv")
		w.Write(payload)
	})
	c := boe.NewClient(srv.URL+"/boeapps/database/", srv.Client())
	boe.SetClock(c, func() time.Time { return time.Date(2026, 3, 20, 18, 0, 0, 0, time.UTC) })
	return c, n, &query
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: on 20 Mar 2026
// XUDLUSS is 1.3302 and XUDLJYS 211.833 (dollars and yen one pound buys,
// per one pound), so latest.golden reads "GBP USD 1.3302" and
// "GBP JPY 211.833"; XUDLZOS4 (RON) is 5.8721. 17:00 in London in March
// (GMT) is 17:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden     string
		call             func(*boe.Client) ([]fx.RateSet, error)
		wantFrom, wantTo string
	}{
		{"latest", "latest.golden", func(c *boe.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, "06/Mar/2026", "20/Mar/2026"},
		{"history", "history.golden", func(c *boe.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-18"), providertest.Day("2026-03-19"))
		}, "18/Mar/2026", "19/Mar/2026"},
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
				t.Fatalf("requests = %d, want 1 (the export serves ranges)", got)
			}
			v := q.Load().(url.Values)
			if v.Get("Datefrom") != tt.wantFrom || v.Get("Dateto") != tt.wantTo || v.Get("UsingCodes") != "Y" || v.Get("CSVF") != "TN" {
				t.Fatalf("query = %v, want Datefrom %s Dateto %s", v, tt.wantFrom, tt.wantTo)
			}
			if got := len(strings.Split(v.Get("SeriesCodes"), ",")); got != 26 {
				t.Fatalf("series asked = %d, want 26", got)
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
		{"one day", "2026-03-17", "2026-03-17", 1},
		{"whole recording", "2026-03-01", "2026-03-31", 4},
		{"weekend only", "2026-03-21", "2026-03-22", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.dates {
				t.Fatalf("sets = %d, want %d", len(sets), tt.dates)
			}
			for _, s := range sets {
				if s.Base != "GBP" || len(s.Rates) != 26 {
					t.Fatalf("set %s has base %s and %d rates, want GBP and 26", s.AsOf, s.Base, len(s.Rates))
				}
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want 1", n.Load())
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"html error page", "<html><body>Sorry, there was a problem</body></html>"},
		{"empty body", ""},
		{"header only", "DATE,XUDLUSS\r\n"},
		{"bad date", "DATE,XUDLUSS\r\n2026-03-20,1.3302\r\n"},
		{"text value", "DATE,XUDLUSS\r\n20 Mar 2026,n/a\r\n"},
		{"zero value", "DATE,XUDLUSS\r\n20 Mar 2026,0\r\n"},
		{"short row", "DATE,XUDLUSS,XUDLERS\r\n20 Mar 2026,1.3302\r\n"},
		{"no known series", "DATE,XUDLQQQ\r\n20 Mar 2026,1.5\r\n"},
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
