package mnb_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/mnb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*mnb.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/mnb/GetExchangeRates-2025-03-24-2025-03-28.xml")
}

// serve stands in for the SOAP service: it checks the request is a SOAP
// POST naming a known operation and answers payload (the recorded range
// answer for both operations: GetCurrentExchangeRates returns the same
// rates document, for one day, and was not recorded). It counts requests.
func serve(t *testing.T, payload []byte) (*mnb.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		action := r.Header.Get("SOAPAction")
		ok := r.Method == http.MethodPost && r.URL.Path == "/arfolyamok.asmx" &&
			strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml")
		switch action {
		case "http://www.mnb.hu/webservices/MNBArfolyamServiceSoap/GetExchangeRates":
			ok = ok && strings.Contains(string(body), "<web:startDate>") && strings.Contains(string(body), "<web:currencyNames>AUD,")
		case "http://www.mnb.hu/webservices/MNBArfolyamServiceSoap/GetCurrentExchangeRates":
			ok = ok && strings.Contains(string(body), "<web:GetCurrentExchangeRates>")
		default:
			ok = false
		}
		if !ok {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(payload)
	})
	return mnb.NewClient(srv.URL+"/arfolyamok.asmx", srv.Client()), n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: on 2025-03-28 it has
// <Rate unit="1" curr="USD">373,72</Rate>, golden "USD HUF 373.72" (forints
// per dollar, never inverted), and <Rate unit="100" curr="JPY">248,17</Rate>,
// golden "JPY HUF 2.4817" (per ONE yen, every digit kept); as_of 12:00 in
// Budapest (CET, UTC+1) = 11:00 UTC.
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
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2025-03-24"), providertest.Day("2025-03-28"))
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
	sets, err := mnb.Parse(mnb.Name, recording(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2025-03-28", "373.72"},
		{"JPY", "2025-03-28", "2.4817"}, // 248,17 per 100 yen
		{"IDR", "2025-03-28", "0.0226"}, // 2,26 per 100 rupiah
		{"GBP", "2025-03-28", "484.00"}, // trailing zeros kept
		{"EUR", "2025-03-27", "400.47"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.DateOnly) == tt.day {
					if len(s.Rates) != 1 || s.Rates[0].Quote != "HUF" || fx.Exact(s.Rates[0].Value) != tt.want {
						t.Fatalf("set %+v, want HUF %s", s, tt.want)
					}
					if want := providertest.Day(tt.day).Add(11 * time.Hour); !s.AsOf.Equal(want) {
						t.Fatalf("as_of = %s, want %s", s.AsOf, want)
					}
					return
				}
			}
			t.Fatalf("no %s on %s", tt.base, tt.day)
		})
	}
}

func TestInvalid(t *testing.T) {
	wrap := func(inner string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetExchangeRatesResponse xmlns="http://www.mnb.hu/webservices/"><GetExchangeRatesResult>` +
			strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(inner) + `</GetExchangeRatesResult></GetExchangeRatesResponse></s:Body></s:Envelope>`
	}
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"not XML", `{"rates":[]}`},
		{"empty body", ``},
		{"SOAP fault", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault></s:Body></s:Envelope>`},
		{"no day", wrap(`<MNBExchangeRates/>`)},
		{"result not XML", wrap(`oops <`)},
		{"bad date", wrap(`<MNBExchangeRates><Day date="28.03.2025"><Rate unit="1" curr="USD">373,72</Rate></Day></MNBExchangeRates>`)},
		{"bad unit", wrap(`<MNBExchangeRates><Day date="2025-03-28"><Rate unit="x" curr="USD">373,72</Rate></Day></MNBExchangeRates>`)},
		{"unit not a power of ten", wrap(`<MNBExchangeRates><Day date="2025-03-28"><Rate unit="3" curr="USD">373,72</Rate></Day></MNBExchangeRates>`)},
		{"text rate", wrap(`<MNBExchangeRates><Day date="2025-03-28"><Rate unit="1" curr="USD">n/a</Rate></Day></MNBExchangeRates>`)},
		{"thousands separator", wrap(`<MNBExchangeRates><Day date="2025-03-28"><Rate unit="1" curr="USD">1,373,72</Rate></Day></MNBExchangeRates>`)},
		{"empty day", wrap(`<MNBExchangeRates><Day date="2025-03-28"></Day></MNBExchangeRates>`)},
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

// TestHistoryRequests checks one request for any range (the service serves
// ranges), an empty answer read as no publication, and no request for a
// reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2025-03-26", "2025-03-26", 32},
		{"the week", "2025-03-24", "2025-03-28", 5 * 32},
		{"a year", "2024-03-29", "2025-03-28", 5 * 32},
		{"a weekend", "2025-03-29", "2025-03-30", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after 1", len(sets), n.Load(), tt.sets)
			}
		})
	}
	t.Run("an answer without days is empty", func(t *testing.T) {
		empty := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetExchangeRatesResponse xmlns="http://www.mnb.hu/webservices/"><GetExchangeRatesResult>&lt;MNBExchangeRates /&gt;</GetExchangeRatesResult></GetExchangeRatesResponse></s:Body></s:Envelope>`
		c, n := serve(t, []byte(empty))
		sets, err := c.History(context.Background(), providertest.Day("2025-03-29"), providertest.Day("2025-03-30"))
		if err != nil || len(sets) != 0 || n.Load() != 1 {
			t.Fatalf("%d sets, err %v, %d requests", len(sets), err, n.Load())
		}
	})
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2025-03-28"), providertest.Day("2025-03-24"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
