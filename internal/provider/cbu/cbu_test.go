package cbu_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cbu"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbu.Client)(nil)

// dir holds the recordings (see testdata/cbu/SOURCE.md): the archive's
// answers for 2026-04-01, 04-02 and 04-03, cut to five currencies (USD,
// JPY and XDR per 1, IDR and VND per 10).
const dir = "../../../testdata/cbu/"

func read(t *testing.T, date string) []byte {
	t.Helper()
	return providertest.ReadFile(t, dir+"all-"+date+".json")
}

// serve answers the undated address with latest, and /all/<date>/ with
// latest when it is set, else with the recording of that date or a 404;
// it counts requests.
func serve(t *testing.T, latest []byte) (*cbu.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		const root = "/en/arkhiv-kursov-valyut/json/"
		date, dated := strings.CutPrefix(r.URL.Path, root+"all/")
		switch {
		case latest != nil && (r.URL.Path == root || dated):
			w.Write(latest)
		case dated && strings.HasSuffix(date, "/"):
			b, err := os.ReadFile(dir + "all-" + filepath.Base(date) + ".json")
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	})
	return cbu.NewClient(srv.URL+"/en/arkhiv-kursov-valyut/json/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recordings,
// with the golden files. Checked by hand against the recordings: on
// 03.04.2026 USD (Nominal 1) is "12149.84" sums, read as "USD UZS
// 12149.84"; JPY (Nominal 1) 76.14 per one yen; IDR (Nominal 10) is 7.15
// per 10 rupiah, read as 0.715. 18:00 in Tashkent (UTC+5) is 13:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		latest       []byte
		call         func(*cbu.Client) ([]fx.RateSet, error)
		requests     int32
	}{
		{"latest", "latest.golden", read(t, "2026-04-03"), func(c *cbu.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", nil, func(c *cbu.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-04-01"), providertest.Day("2026-04-03"))
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, tt.latest)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d (one per day)", n.Load(), tt.requests)
			}
		})
	}
}

func TestHistoryRequests(t *testing.T) {
	// A stand-in answering every date with the 03.04 list (a Friday), as
	// for the weekend after it: three days asked, one date kept.
	c, n := serve(t, read(t, "2026-04-03"))
	sets, err := c.History(context.Background(), providertest.Day("2026-04-03"), providertest.Day("2026-04-05"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 5 || n.Load() != 3 {
		t.Fatalf("sets = %d after %d requests, want 5 after 3", len(sets), n.Load())
	}
	c, n = serve(t, nil)
	if _, err := c.History(context.Background(), providertest.Day("2026-04-03"), providertest.Day("2026-04-01")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	rate := func(ccy, nominal, value, date string) string {
		return `{"id":69,"Code":"840","Ccy":"` + ccy + `","CcyNm_EN":"US Dollar","Nominal":"` + nominal + `","Rate":"` + value + `","Diff":"7.74","Date":"` + date + `"}`
	}
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty json", `{}`},
		{"empty array", `[]`},
		{"bad date", `[` + rate("USD", "1", "12149.84", "2026-04-03") + `]`},
		{"two dates", `[` + rate("USD", "1", "12149.84", "03.04.2026") + `,` + rate("EUR", "1", "13984.32", "02.04.2026") + `]`},
		{"text rate", `[` + rate("USD", "1", "n/a", "03.04.2026") + `]`},
		{"zero rate", `[` + rate("USD", "1", "0", "03.04.2026") + `]`},
		{"nominal not a power of ten", `[` + rate("USD", "50", "12149.84", "03.04.2026") + `]`},
		{"only a non-ISO code", `[` + rate("QQQ", "1", "1.5", "03.04.2026") + `]`},
		{"duplicate", `[` + rate("USD", "1", "12149.84", "03.04.2026") + `,` + rate("USD", "1", "12149.84", "03.04.2026") + `]`},
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
