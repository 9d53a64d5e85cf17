package nbm_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbm"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbm.Client)(nil)

// dir holds the recordings (see testdata/nbm/SOURCE.md): the exports for
// 06.04.2026 and 07.04.2026, cut to four currencies (EUR, USD, ALL per 10,
// JPY per 100).
const dir = "../../../testdata/nbm/"

func read(t *testing.T, date string) []byte {
	t.Helper()
	return providertest.ReadFile(t, dir+"official_exchange_rates-"+date+".xml")
}

// serve answers the export for a recorded date with its recording and
// any date with latest when it is set, else with a 404; it counts
// requests.
func serve(t *testing.T, latest []byte) (*nbm.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/en/official_exchange_rates" || q.Get("get_xml") != "1" {
			http.NotFound(w, r)
			return
		}
		if latest != nil {
			w.Write(latest)
			return
		}
		b, err := os.ReadFile(dir + "official_exchange_rates-" + filepath.Base(q.Get("date")) + ".xml")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	return nbm.NewClient(srv.URL+"/en/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recordings,
// with the golden files. Checked by hand against the recordings: on
// 07.04.2026 USD (Nominal 1) is 17.5303 lei, read as "USD MDL 17.5303";
// ALL (Nominal 10) 2.1121 per 10 lek as 0.21121; JPY (Nominal 100) 10.9938
// per 100 yen as 0.109938. 18:00 in Chisinau in April (EEST, UTC+3) is
// 15:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		latest       []byte
		call         func(*nbm.Client) ([]fx.RateSet, error)
		requests     int32
	}{
		{"latest", "latest.golden", read(t, "07.04.2026"), func(c *nbm.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", nil, func(c *nbm.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-04-06"), providertest.Day("2026-04-07"))
		}, 2},
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
	// A stand-in answering every date with the 06.04 list: three days
	// asked, one date kept.
	c, n := serve(t, read(t, "06.04.2026"))
	sets, err := c.History(context.Background(), providertest.Day("2026-04-06"), providertest.Day("2026-04-08"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4 || n.Load() != 3 {
		t.Fatalf("sets = %d after %d requests, want 4 after 3", len(sets), n.Load())
	}
	c, n = serve(t, nil)
	if _, err := c.History(context.Background(), providertest.Day("2026-04-07"), providertest.Day("2026-04-06")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?><ValCurs Date="07.04.2026" name="Official exchange rate">`
	valute := func(code, nominal, value string) string {
		return `<Valute ID="44"><CharCode>` + code + `</CharCode><Nominal>` + nominal + `</Nominal><Value>` + value + `</Value></Valute>`
	}
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty", ``},
		{"metal prices", `<?xml version="1.0" encoding="UTF-8"?><MetalPrice Date="06.04.2026"><Metal ID=""><CharCode>XAU</CharCode><Nominal>1</Nominal><Value>2617.7179</Value></Metal></MetalPrice>`},
		{"no rates", head + `</ValCurs>`},
		{"bad date", `<ValCurs Date="2026-04-07">` + valute("USD", "1", "17.5303") + `</ValCurs>`},
		{"text value", head + valute("USD", "1", "n/a") + `</ValCurs>`},
		{"comma value", head + valute("USD", "1", "17,5303") + `</ValCurs>`},
		{"zero value", head + valute("USD", "1", "0") + `</ValCurs>`},
		{"nominal not a power of ten", head + valute("USD", "50", "17.5303") + `</ValCurs>`},
		{"only a non-ISO code", head + valute("QQQ", "1", "1.5") + `</ValCurs>`},
		{"duplicate", head + valute("USD", "1", "17.5303") + valute("USD", "1", "17.5303") + `</ValCurs>`},
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
