package bnr_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bnr"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bnr.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/bnr/nbrfxrates2026.xml")
}

// serve stands in for curs.bnr.ro: the 2026 yearly file and the daily file
// answer payload (the daily file has the same DataSet format with one
// Cube and was not recorded: Latest keeps the newest date), other years
// 404. It counts the requests and records their paths.
func serve(t *testing.T, payload []byte) (*bnr.Client, *atomic.Int32, *[]string) {
	t.Helper()
	var paths []string
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch r.URL.Path {
		case "/nbrfxrates.xml", "/files/xml/years/nbrfxrates2026.xml":
			w.Header().Set("Content-Type", "text/xml")
			w.Write(payload)
		default:
			http.NotFound(w, r)
		}
	})
	return bnr.NewClient(srv.URL, srv.Client()), n, &paths
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: on 2026-01-05 it has
// <Rate currency="EUR">5.0905</Rate>, golden "EUR RON 5.0905" (lei per
// euro, never inverted), and <Rate currency="HUF" multiplier="100">1.3247</Rate>,
// golden "HUF RON 0.013247" (per ONE forint, every digit kept); XAU
// (621.3365 lei, a gram of gold) is skipped; as_of 13:00 in Bucharest
// (EET, UTC+2) = 11:00 UTC in January, 10:00 UTC in August (EEST).
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		golden   string
		from, to string // empty: Latest
	}{
		{"latest", "latest.golden", "", ""},
		{"history", "history.golden", "2026-01-01", "2026-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, recording(t))
			var sets []fx.RateSet
			var err error
			if tt.from == "" {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
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
	sets, err := bnr.Parse(bnr.Name, recording(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want, asOf string }{
		{"EUR", "2026-01-05", "5.0905", "2026-01-05T11:00:00Z"},
		{"HUF", "2026-01-05", "0.013247", "2026-01-05T11:00:00Z"}, // 1.3247 per 100 forints
		{"IDR", "2026-01-05", "0.000260", "2026-01-05T11:00:00Z"}, // 0.0260 per 100 rupiah, zeros kept
		{"XDR", "2026-01-05", "", "2026-01-05T11:00:00Z"},
		{"EUR", "2026-08-19", "", "2026-08-19T10:00:00Z"}, // summer time
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.DateOnly) == tt.day {
					if len(s.Rates) != 1 || s.Rates[0].Quote != "RON" || (tt.want != "" && fx.Exact(s.Rates[0].Value) != tt.want) {
						t.Fatalf("set %+v, want RON %s", s, tt.want)
					}
					if got := s.AsOf.Format(time.RFC3339); got != tt.asOf {
						t.Fatalf("as_of = %s, want %s", got, tt.asOf)
					}
					return
				}
			}
			t.Fatalf("no %s on %s", tt.base, tt.day)
		})
	}
	for _, s := range sets {
		if s.Base == "XAU" {
			t.Fatalf("XAU (per gram) was read: %+v", s)
		}
	}
}

func TestInvalid(t *testing.T) {
	doc := func(orig, cubes string) string {
		return `<?xml version="1.0" encoding="utf-8"?><DataSet xmlns="https://www.bnr.ro/xsd"><Header><Publisher>National Bank of Romania</Publisher></Header><Body><Subject>Reference rates</Subject><OrigCurrency>` +
			orig + `</OrigCurrency>` + cubes + `</Body></DataSet>`
	}
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty body", ``},
		{"JSON", `{"rates":[]}`},
		{"no Cube", doc("RON", ``)},
		{"other origin currency", doc("EUR", `<Cube date="2026-01-05"><Rate currency="USD">4.3</Rate></Cube>`)},
		{"bad date", doc("RON", `<Cube date="05.01.2026"><Rate currency="USD">4.3</Rate></Cube>`)},
		{"bad multiplier", doc("RON", `<Cube date="2026-01-05"><Rate currency="JPY" multiplier="x">2.78</Rate></Cube>`)},
		{"text rate", doc("RON", `<Cube date="2026-01-05"><Rate currency="USD">-</Rate></Cube>`)},
		{"only gold", doc("RON", `<Cube date="2026-01-05"><Rate currency="XAU">621.3365</Rate></Cube>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload))
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

// TestHistoryRequests checks one request per calendar year of the range,
// a year without a file (404) read as empty, and no request for a reversed
// range.
func TestHistoryRequests(t *testing.T) {
	const perDay = 36 // 37 codes, XAU skipped
	tests := []struct {
		name     string
		from, to string
		requests int32
		sets     int
	}{
		{"one day", "2026-01-08", "2026-01-08", 1, perDay},
		{"a weekend", "2026-01-10", "2026-01-11", 1, 0},
		{"the year", "2026-01-01", "2026-12-31", 1, 4 * perDay},
		{"across a new year", "2025-12-01", "2026-01-05", 2, perDay},
		{"three years", "2024-06-01", "2026-08-19", 3, 4 * perDay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, paths := serve(t, recording(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests (%v), want %d after %d", len(sets), n.Load(), *paths, tt.sets, tt.requests)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-01-09"), providertest.Day("2026-01-05"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
