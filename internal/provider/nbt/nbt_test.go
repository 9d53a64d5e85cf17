package nbt_test

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
	"ces/internal/provider/nbt"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbt.Client)(nil)

// dir holds the recordings (see testdata/nbt/SOURCE.md): the exports for
// 2026-05-18, 05-19 and 05-20, cut to four currencies (USD per 1, JPY per
// 10, UZS per 100, IRR per 1000).
const dir = "../../../testdata/nbt/"

func read(t *testing.T, date string) []byte {
	t.Helper()
	return providertest.ReadFile(t, dir+"export_xml-"+date+".xml")
}

// serve answers the export for a recorded date with its recording and
// any date with latest when it is set, else with a 404; it counts
// requests.
func serve(t *testing.T, latest []byte) (*nbt.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/en/kurs/export_xml.php" || q.Get("export") != "xmlout" {
			http.NotFound(w, r)
			return
		}
		if latest != nil {
			w.Write(latest)
			return
		}
		b, err := os.ReadFile(dir + "export_xml-" + filepath.Base(q.Get("date")) + ".xml")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	return nbt.NewClient(srv.URL+"/en/kurs/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recordings,
// with the golden files. Checked by hand against the recordings: on
// 2026-05-20 USD (Nominal 1) is 9.3288 somoni, read as "USD TJS 9.3288";
// JPY (Nominal 10) 0.5862 per 10 yen as 0.05862; UZS (Nominal 100) 0.0774
// per 100 sums as 0.000774; IRR (Nominal 1000) 0.0071 as 0.0000071. 18:00
// in Dushanbe (UTC+5) is 13:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		latest       []byte
		call         func(*nbt.Client) ([]fx.RateSet, error)
		requests     int32
	}{
		{"latest", "latest.golden", read(t, "2026-05-20"), func(c *nbt.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", nil, func(c *nbt.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-05-18"), providertest.Day("2026-05-20"))
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
	// A stand-in answering every date with the 2026-05-18 list: three
	// days asked, one date kept.
	c, n := serve(t, read(t, "2026-05-18"))
	sets, err := c.History(context.Background(), providertest.Day("2026-05-18"), providertest.Day("2026-05-20"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 4 || n.Load() != 3 {
		t.Fatalf("sets = %d after %d requests, want 4 after 3", len(sets), n.Load())
	}
	c, n = serve(t, nil)
	if _, err := c.History(context.Background(), providertest.Day("2026-05-20"), providertest.Day("2026-05-18")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	const head = `<?xml version="1.0" encoding="utf-8" ?><ValCurs Date="2026-05-20" name="Foreign Currency Market">`
	valute := func(code, nominal, value string) string {
		return `<Valute ID="44"><CharCode>` + code + `</CharCode><Nominal>` + nominal + `</Nominal><Value>` + value + `</Value></Valute>`
	}
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty", ``},
		{"no rates", head + `</ValCurs>`},
		{"bad date", `<ValCurs Date="20.05.2026">` + valute("USD", "1", "9.3288") + `</ValCurs>`},
		{"text value", head + valute("USD", "1", "n/a") + `</ValCurs>`},
		{"comma value", head + valute("USD", "1", "9,3288") + `</ValCurs>`},
		{"zero value", head + valute("USD", "1", "0") + `</ValCurs>`},
		{"nominal not a power of ten", head + valute("USD", "50", "9.3288") + `</ValCurs>`},
		{"only a non-ISO code", head + valute("QQQ", "1", "1.5") + `</ValCurs>`},
		{"duplicate", head + valute("USD", "1", "9.3288") + valute("USD", "1", "9.3288") + `</ValCurs>`},
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
