package cbr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cbr"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbr.Client)(nil)

// dir holds the recordings (see testdata/cbr/SOURCE.md): XML_daily.asp's
// answer of 2026-04-25 cut to three currencies (DZD per 100, VND per
// 10000, USD per 1), and XML_dynamic.asp's answers for those three from
// 01/03/2026 to 05/03/2026.
const dir = "../../../testdata/cbr/"

func read(t *testing.T, name string) []byte {
	t.Helper()
	return providertest.ReadFile(t, dir+name)
}

// serve replays the recordings: XML_daily.asp without a date or for
// 25-27 April 2026 (a Saturday, and the Sunday and Monday the same rates
// stay in force) answers daily; XML_dynamic.asp for 01/03-05/03/2026
// answers the recorded file of the currency; anything else is a 404.
// It counts requests.
func serve(t *testing.T, daily []byte) (*cbr.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/scripts/XML_daily.asp":
			switch q.Get("date_req") {
			case "", "25/04/2026", "26/04/2026", "27/04/2026":
				w.Write(daily)
				return
			}
		case r.URL.Path == "/scripts/XML_dynamic.asp" && q.Get("date_req1") == "01/03/2026" && q.Get("date_req2") == "05/03/2026":
			if b, err := os.ReadFile(dir + "XML_dynamic-" + filepath.Base(q.Get("VAL_NM_RQ")) + ".xml"); err == nil {
				w.Write(b)
				return
			}
		}
		http.NotFound(w, r)
	})
	return cbr.NewClient(srv.URL+"/scripts/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recordings,
// with the golden files. Checked by hand against the recordings: on
// 25.04.2026 USD (Nominal 1) is 75,5273 roubles, read as "USD RUB
// 75.5273"; DZD (Nominal 100) is 57,0006 per 100 dinars, read as "DZD RUB
// 0.570006" (the Bank's own VunitRate); VND (Nominal 10000) 30,0750 as
// 0.00300750 (every digit kept). On 03.03.2026 XML_dynamic has USD
// 77,1734, read as 77.1734. Rates dated 25.04.2026 (a Saturday) were
// published on Friday 24 April: as_of 18:00 Moscow, 15:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*cbr.Client) ([]fx.RateSet, error)
	}{
		{"latest", "latest.golden", func(c *cbr.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}},
		{"history", "history.golden", func(c *cbr.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-02-28"), providertest.Day("2026-03-04"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, read(t, "XML_daily.xml"))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

// TestHistoryRequests checks History's two ways: per day while the range
// has no more days than the Bank has currencies (three here), else per
// currency over the whole range; both after one request for the list.
// Publication dates D ask for the rates the XML dates D+1.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    []string
		requests int32
	}{
		{"per day, weekend answers kept once", "2026-04-24", "2026-04-26", []string{"2026-04-24"}, 1 + 3},
		{"per day, answer published before the range", "2026-04-25", "2026-04-26", nil, 1 + 2},
		{"per currency", "2026-02-28", "2026-03-04", []string{"2026-03-02", "2026-03-03", "2026-03-04"}, 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, read(t, "XML_daily.xml"))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			var dates []string
			for _, s := range sets {
				if d := s.AsOf.Format(time.DateOnly); len(dates) == 0 || dates[len(dates)-1] != d {
					dates = append(dates, d)
				}
			}
			if fmt.Sprint(dates) != fmt.Sprint(tt.dates) {
				t.Fatalf("dates = %v, want %v", dates, tt.dates)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
		})
	}
	c, n := serve(t, read(t, "XML_daily.xml"))
	if _, err := c.History(context.Background(), providertest.Day("2026-04-26"), providertest.Day("2026-04-24")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	const head = `<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="25.04.2026" name="Foreign Currency Market">`
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty", ``},
		{"no rates", head + `</ValCurs>`},
		{"bad date", `<ValCurs Date="2026-04-25"><Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>75,5273</Value></Valute></ValCurs>`},
		{"text value", head + `<Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>n/a</Value></Valute></ValCurs>`},
		{"zero value", head + `<Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>0</Value></Valute></ValCurs>`},
		{"nominal not a power of ten", head + `<Valute ID="R01235"><CharCode>USD</CharCode><Nominal>50</Nominal><Value>75,5273</Value></Valute></ValCurs>`},
		{"only a non-ISO code", head + `<Valute ID="R0"><CharCode>QQQ</CharCode><Nominal>1</Nominal><Value>1,5</Value></Valute></ValCurs>`},
		{"duplicate", head + `<Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>75,5273</Value></Valute><Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>75,5273</Value></Valute></ValCurs>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
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
