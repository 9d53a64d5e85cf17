package nbg_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbg"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbg.Client)(nil)

// validFrom maps each recorded publication's validity date to its
// recording (testdata/nbg/SOURCE.md): the answer to ?date=2026-03-02 is
// the publication valid from 2026-02-28, that to 2026-03-03 (and, March 3
// being a Georgian holiday, to 2026-03-04) the one valid from 2026-03-03.
var validFrom = []struct{ from, file string }{
	{"2026-02-28", "currencies_2026-03-02.json"},
	{"2026-03-03", "currencies_2026-03-03.json"},
}

// serve stands in for the API as the recording shows it behaving: a date
// is answered with the publication valid on it (the latest valid from
// that date or before), an earlier date with an empty array. pages
// overrides that for the dates it names.
func serve(t *testing.T, pages map[string][]byte) (*nbg.Client, *atomic.Int32, *[]string) {
	t.Helper()
	var asked []string
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		d := r.URL.Query().Get("date")
		asked = append(asked, d)
		if r.URL.Path != "/gw/api/ct/monetarypolicy/currencies/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if b, ok := pages[d]; ok {
			w.Write(b)
			return
		}
		body := []byte("[]")
		for _, v := range validFrom {
			if v.from <= d {
				b, err := os.ReadFile("../../../testdata/nbg/" + v.file)
				if err != nil {
					t.Error(err)
				}
				body = b
			}
		}
		w.Write(body)
	})
	c := nbg.NewClient(srv.URL+"/gw/api/ct/monetarypolicy/", srv.Client())
	// 2026-03-03 10:00 in Tbilisi, a holiday after the 2026-03-02 publication.
	nbg.SetClock(c, func() time.Time { return time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC) })
	return c, n, &asked
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording valid from 2026-03-03, published
// 2026-03-02T17:01:08.614Z (the as_of): USD "quantity":1,"rate":2.6922
// gives USD/GEL 2.6922; AMD "quantity":1000,"rate":7.1407 gives AMD/GEL
// 0.0071407; JPY "quantity":100,"rate":1.7162 gives 0.017162; IRR
// "quantity":10000,"rate":0.0205 gives 0.00000205.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		requests int32
		call     func(c *nbg.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", 1, func(c *nbg.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", 3, func(c *nbg.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-02-27"), providertest.Day("2026-03-03"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, nil)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			for _, s := range sets {
				if s.Provider != nbg.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "GEL" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const pub = `[{"date":"2026-03-04T00:00:00.000Z","currencies":[`
	const usd = `{"code":"USD","quantity":1,"rate":2.6963,"date":"2026-03-03T17:01:00.000Z","validFromDate":"2026-03-04T00:00:00.000Z"}`
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty object", `{}`},
		{"null", `null`},
		{"text rate", pub + `{"code":"USD","quantity":1,"rate":"n/a","date":"2026-03-03T17:01:00.000Z"}]}]`},
		{"zero rate", pub + `{"code":"USD","quantity":1,"rate":0,"date":"2026-03-03T17:01:00.000Z"}]}]`},
		{"no publication time", pub + `{"code":"USD","quantity":1,"rate":2.6963}]}]`},
		{"quantity not a power of ten", pub + `{"code":"USD","quantity":3,"rate":2.6963,"date":"2026-03-03T17:01:00.000Z"}]}]`},
		{"twice", pub + usd + `,` + usd + `]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, map[string][]byte{"2026-03-04": []byte(tt.payload)})
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
		asked    string // dates asked, in order
		dates    string // publication dates returned
	}{
		{"friday to tuesday", "2026-02-27", "2026-03-03", "2026-02-28,2026-03-03,2026-03-04", "2026-02-27,2026-03-02"},
		{"a weekend asks nothing", "2026-02-28", "2026-03-01", "", ""},
		{"a holiday repeats monday's, kept once and out of range", "2026-03-03", "2026-03-03", "2026-03-04", ""},
		{"monday alone", "2026-03-02", "2026-03-02", "2026-03-03", "2026-03-02"},
		{"before the recording", "2026-02-20", "2026-02-20", "2026-02-21", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			// At most one request per publication day (weekday).
			if got := strings.Join(*asked, ","); got != tt.asked || int(n.Load()) != len(*asked) {
				t.Fatalf("asked %q, want %q", got, tt.asked)
			}
			var dates []string
			for _, s := range sets {
				d := s.AsOf.Format(time.DateOnly)
				if len(dates) == 0 || dates[len(dates)-1] != d {
					dates = append(dates, d)
				}
			}
			if got := strings.Join(dates, ","); got != tt.dates {
				t.Fatalf("dates %q, want %q", got, tt.dates)
			}
		})
	}
}

func TestReversedRange(t *testing.T) {
	c, n, _ := serve(t, nil)
	_, err := c.History(context.Background(), providertest.Day("2026-03-03"), providertest.Day("2026-03-02"))
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), provider.TypeRequestRejected)
	}
}
