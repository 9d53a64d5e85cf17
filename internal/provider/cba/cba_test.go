package cba_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cba"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cba.Client)(nil)

// dir holds the recordings (see testdata/cba/SOURCE.md): the
// ExchangeRatesLatest answer of 2026-03-18 cut to five codes (USD, EUR,
// IRR per 100, JPY per 10, XAU per gram), and the
// ExchangeRatesByDateRangeByISO answer for 2026-03-01 to 03-19 cut to
// four codes (USD, IRR, JPY, XAU) on 13, 16 and 17 March.
const dir = "../../../testdata/cba/"

func read(t *testing.T, name string) []byte {
	t.Helper()
	return providertest.ReadFile(t, dir+name)
}

// serve answers POSTs to /exchangerates.asmx by SOAP action: the latest
// operation with latest, the range operation with ranged (whatever the
// dates); it counts requests and keeps the range request's body.
func serve(t *testing.T, latest, ranged []byte) (*cba.Client, *atomic.Int32, *string) {
	t.Helper()
	var mu sync.Mutex
	var rangeBody string
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/exchangerates.asmx" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		switch r.Header.Get("SOAPAction") {
		case `"http://www.cba.am/ExchangeRatesLatest"`:
			w.Write(latest)
		case `"http://www.cba.am/ExchangeRatesByDateRangeByISO"`:
			mu.Lock()
			rangeBody = string(body)
			mu.Unlock()
			w.Write(ranged)
		default:
			http.Error(w, "unknown SOAP action", http.StatusInternalServerError)
		}
	})
	return cba.NewClient(srv.URL+"/exchangerates.asmx", srv.Client()), n, &rangeBody
}

// TestGolden compares Latest and History, parsed from the recordings,
// with the golden files. Checked by hand against the recordings: on
// 2026-03-18 USD (Amount 1) is 377.39 drams, read as "USD AMD 377.39";
// JPY (Amount 10) 23.735 per 10 yen as 2.3735; IRR (Amount 100) 0.028677
// per 100 rials as 0.00028677; XAU, priced per gram, is skipped. 18:00 in
// Yerevan (UTC+4) is 14:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*cba.Client) ([]fx.RateSet, error)
		requests     int32
	}{
		{"latest", "latest.golden", func(c *cba.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", func(c *cba.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-13"), providertest.Day("2026-03-17"))
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, read(t, "ExchangeRatesLatest.xml"), read(t, "ExchangeRatesByDateRangeByISO.xml"))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
		})
	}
}

func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    int
	}{
		{"one day", "2026-03-16", "2026-03-16", 1},
		{"whole recording", "2026-01-01", "2026-12-31", 3},
		{"weekend", "2026-03-14", "2026-03-15", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, body := serve(t, read(t, "ExchangeRatesLatest.xml"), read(t, "ExchangeRatesByDateRangeByISO.xml"))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			dates := map[time.Time]bool{}
			for _, s := range sets {
				dates[s.AsOf] = true
			}
			if len(dates) != tt.dates {
				t.Fatalf("dates = %v, want %d", dates, tt.dates)
			}
			if n.Load() != 2 {
				t.Fatalf("requests = %d, want 2 (the code list and one range)", n.Load())
			}
			want := "<ISOCodes>USD,EUR,IRR,JPY,XAU</ISOCodes><DateFrom>" + tt.from + "</DateFrom><DateTo>" + tt.to + "</DateTo>"
			if !strings.Contains(*body, want) {
				t.Fatalf("range request %q does not hold %q", *body, want)
			}
		})
	}
	c, n, _ := serve(t, nil, nil)
	if _, err := c.History(context.Background(), providertest.Day("2026-03-17"), providertest.Day("2026-03-13")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	const head = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ExchangeRatesLatestResponse xmlns="http://www.cba.am/"><ExchangeRatesLatestResult><CurrentDate>2026-03-18T00:00:00</CurrentDate><Rates>`
	const tail = `</Rates></ExchangeRatesLatestResult></ExchangeRatesLatestResponse></soap:Body></soap:Envelope>`
	rate := func(iso, amount, value string) string {
		return `<ExchangeRate><ISO>` + iso + `</ISO><Amount>` + amount + `</Amount><Rate>` + value + `</Rate><Difference>0</Difference></ExchangeRate>`
	}
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty", ``},
		{"envelope without result", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body></soap:Body></soap:Envelope>`},
		{"no rates", head + tail},
		{"bad date", strings.Replace(head, "2026-03-18T00:00:00", "18.03.2026", 1) + rate("USD", "1", "377.39") + tail},
		{"text rate", head + rate("USD", "1", "n/a") + tail},
		{"zero rate", head + rate("USD", "1", "0") + tail},
		{"amount not a power of ten", head + rate("JPY", "50", "23.735") + tail},
		{"zero amount", head + rate("JPY", "0", "23.735") + tail},
		{"only metals", head + rate("XAU", "1", "60871") + rate("XAG", "1", "973.28") + tail},
		{"only a non-ISO code", head + rate("QQQ", "1", "1.5") + tail},
		{"duplicate with two values", head + rate("USD", "1", "377.39") + rate("USD", "1", "377.40") + tail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload), nil)
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
