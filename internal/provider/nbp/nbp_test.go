package nbp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbp"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbp.Client)(nil)

const recordings = "../../../testdata/nbp/"

func recording(t *testing.T, name string) []byte {
	t.Helper()
	return providertest.ReadFile(t, recordings+name)
}

// serve stands in for the API: /api/exchangerates/tables/{A|B}/... answers
// that table's recording (or tableA/tableB when set) for the current table
// and for a range that holds the recorded week, and 404 (as NBP does) for a
// range that does not. It counts the requests and records their paths.
func serve(t *testing.T, tableA, tableB []byte) (*nbp.Client, *atomic.Int32, *[]string) {
	t.Helper()
	if tableA == nil {
		tableA = recording(t, "tables-A-2026-03-01-2026-03-05.json")
	}
	if tableB == nil {
		tableB = recording(t, "tables-B-2026-03-01-2026-03-05.json")
	}
	var paths []string
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Query().Get("format") != "json" {
			http.Error(w, "400 BadRequest", http.StatusBadRequest)
			return
		}
		if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); len(parts) == 6 {
			if parts[5] < "2026-03-02" || parts[4] > "2026-03-05" {
				http.Error(w, "404 NotFound - Not Found - Brak danych", http.StatusNotFound)
				return
			}
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/exchangerates/tables/A/"):
			w.Write(tableA)
		case strings.HasPrefix(r.URL.Path, "/api/exchangerates/tables/B/"):
			w.Write(tableB)
		default:
			http.NotFound(w, r)
		}
	})
	return nbp.NewClient(srv.URL+"/api", srv.Client()), n, &paths
}

// TestGolden checks the parsed recordings against the golden files.
// Checked by hand against the raw recordings: table A of 2026-03-05 has
// "dolar amerykański","code":"USD","mid":3.6771, golden "USD PLN 3.6771"
// (zlotys per dollar, never inverted); "forint (Węgry)" HUF mid 0.011155 on 2026-03-02
// is per ONE forint (the API states per-unit values, unlike the printed
// table's per-100), so HUF→PLN 0.011155; table B's XOF mid on 2026-03-04
// is per one franc. as_of 12:15 Warsaw (CET, UTC+1) = 11:15 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		golden   string
		from, to string // empty: Latest
		requests int32
	}{
		{"latest", "latest.golden", "", "", 2},
		{"history", "history.golden", "2026-03-01", "2026-03-05", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, nil, nil)
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
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestValues(t *testing.T) {
	c, _, _ := serve(t, nil, nil)
	sets, err := c.History(context.Background(), providertest.Day("2026-03-02"), providertest.Day("2026-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-03-02", "3.6056"},
		{"HUF", "2026-03-02", "0.011155"}, // per one forint: the API's mid is per unit
		{"JPY", "2026-03-02", "0.022963"},
		{"RON", "2026-03-02", "0.8300"}, // trailing zeros kept
		{"XDR", "2026-03-02", ""},       // present, value checked by the golden file
		{"AFN", "2026-03-04", "0.056626"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.DateOnly) == tt.day {
					if s.Rates[0].Quote != "PLN" || len(s.Rates) != 1 {
						t.Fatalf("set %+v", s)
					}
					if tt.want != "" && fx.Exact(s.Rates[0].Value) != tt.want {
						t.Fatalf("%s = %s, want %s", tt.base, fx.Exact(s.Rates[0].Value), tt.want)
					}
					if want := providertest.Day(tt.day).Add(11*time.Hour + 15*time.Minute); !s.AsOf.Equal(want) {
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
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>503 Service Unavailable</body></html>`},
		{"empty JSON array", `[]`},
		{"empty object", `{}`},
		{"table without rates", `[{"table":"A","no":"041/A/NBP/2026","effectiveDate":"2026-03-02","rates":[]}]`},
		{"bad date", `[{"table":"A","effectiveDate":"02.03.2026","rates":[{"code":"USD","mid":3.6056}]}]`},
		{"text mid", `[{"table":"A","effectiveDate":"2026-03-02","rates":[{"code":"USD","mid":"n/a"}]}]`},
		{"zero mid", `[{"table":"A","effectiveDate":"2026-03-02","rates":[{"code":"USD","mid":0}]}]`},
		{"conflicting duplicate", `[{"table":"A","effectiveDate":"2026-03-02","rates":[{"code":"USD","mid":3.6056},{"code":"USD","mid":3.7}]}]`},
		{"only non-ISO codes", `[{"table":"A","effectiveDate":"2026-03-02","rates":[{"code":"XYZ","mid":1.5}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, []byte(tt.payload), nil)
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

// TestHistoryRequests checks two requests (tables A and B) per 93 days of
// range, the API's limit, and that a range without a table (404) is empty.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		requests int32
		sets     int
	}{
		{"one day", "2026-03-04", "2026-03-04", 2, 32 + 116},
		{"93 days", "2026-01-01", "2026-04-03", 2, 4*32 + 116},
		{"94 days", "2026-01-01", "2026-04-04", 4, 4*32 + 116},
		{"a year", "2025-03-06", "2026-03-05", 8, 4*32 + 116},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, paths := serve(t, nil, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d (%v), want %d", n.Load(), *paths, tt.requests)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
		})
	}
	t.Run("404 is an empty range", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "404 NotFound - Not Found - Brak danych", http.StatusNotFound)
		}))
		defer srv.Close()
		sets, err := nbp.NewClient(srv.URL, srv.Client()).History(context.Background(), providertest.Day("2026-03-07"), providertest.Day("2026-03-08"))
		if err != nil || len(sets) != 0 {
			t.Fatalf("sets = %d, err = %v; want none, nil", len(sets), err)
		}
	})
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, nil, nil)
		_, err := c.History(context.Background(), providertest.Day("2026-03-05"), providertest.Day("2026-03-01"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
