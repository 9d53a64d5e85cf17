package cbe_test

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
	"ces/internal/provider/cbe"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbe.Client)(nil)

func recording(t *testing.T, name string) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/cbe/"+name)
}

const token = "YQadBhZ3z1ZtC-AzgTG-3uXa_mk_T3_V5fpvA0UjyXcw_Xq3xM4Ee0JSZyVPao9U5fy3owjj4AYOAeyCGc7TAks14zC0qkBlAcFeijaTBps1"

// serve stands in for the CBE site: the page answers the recorded form and
// sets a session cookie; the form post must carry that cookie, the page's
// token and data source, dd/mm/yyyy dates and the 18 currency names, and
// answers workbook. It counts the requests.
func serve(t *testing.T, workbook []byte) (*cbe.Client, *atomic.Int32) {
	t.Helper()
	page := recording(t, "historical-data-form.html")
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/en/economic-research/statistics/cbe-exchange-rates/historical-data":
			http.SetCookie(w, &http.Cookie{Name: "ASP.NET_SessionId", Value: "s1", Path: "/"})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		case r.Method == http.MethodPost && r.URL.Path == "/api/statistics/GetHistoricalData":
			if ck, err := r.Cookie("ASP.NET_SessionId"); err != nil || ck.Value != "s1" {
				http.Error(w, "no session", http.StatusForbidden)
				return
			}
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			f := r.PostForm
			_, errFrom := time.Parse("02/01/2006", f.Get("FromDateRaw"))
			_, errTo := time.Parse("02/01/2006", f.Get("ToDateRaw"))
			if f.Get("__RequestVerificationToken") != token || f.Get("DataSourceId") != "19CFFDDBFF494350A5E9C6A4397FC7DF" ||
				errFrom != nil || errTo != nil || len(f["SelectedSelectOptions"]) != 18 || f.Get("SubmitAction") != "2" {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(workbook)
		default:
			http.NotFound(w, r)
		}
	})
	return cbe.NewClient(srv.URL, srv.Client()), n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw workbook: row 3 is 46121 (2026-04-09), "US
// Dollar", Buy 53.0734, Sell 53.2067: golden "USD EGP 53.14005" (pounds
// per dollar, the exact middle, never inverted); "Japanese Yen 100" is per
// 100 yen, so its middle is shifted two places (about 0.33 pounds per yen,
// as USD/JPY near 160 confirms). as_of 17:00 in Cairo (EET, UTC+2, in
// early April 2026, before Egypt's summer time) = 15:00 UTC.
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
			c, n := serve(t, recording(t, "GetHistoricalData-2026-04-01-2026-04-09.xlsx"))
			var sets []fx.RateSet
			var err error
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2026-04-01"), providertest.Day("2026-04-09"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 2 {
				t.Fatalf("requests = %d, want 2 (page, form)", n.Load())
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestValues(t *testing.T) {
	sets, err := cbe.Parse(cbe.Name, recording(t, "GetHistoricalData-2026-04-01-2026-04-09.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-04-09", "53.14005"}, // (53.0734 + 53.2067) / 2
		{"USD", "2026-04-01", "53.62615"}, // (53.5566 + 53.6957) / 2
		{"EUR", "2026-04-09", "62.1154"},  // (62.0322 + 62.1986) / 2
		{"CNY", "2026-04-01", "7.8009"},   // (7.79 + 7.8118) / 2
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.DateOnly) == tt.day {
					if len(s.Rates) != 1 || s.Rates[0].Quote != "EGP" || fx.Exact(s.Rates[0].Value) != tt.want {
						t.Fatalf("set %+v, want EGP %s", s, tt.want)
					}
					if want := providertest.Day(tt.day).Add(15 * time.Hour); !s.AsOf.Equal(want) {
						t.Fatalf("as_of = %s, want %s", s.AsOf, want)
					}
					return
				}
			}
			t.Fatalf("no %s on %s", tt.base, tt.day)
		})
	}
	if len(sets) != 7*18 {
		t.Fatalf("sets = %d, want 7 days × 18 currencies", len(sets))
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty JSON", `{}`},
		{"empty body", ``},
		{"a zip without a sheet", "PK\x05\x06" + strings.Repeat("\x00", 18)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
			sets, err := c.History(context.Background(), providertest.Day("2026-04-01"), providertest.Day("2026-04-09"))
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
			if sets != nil {
				t.Fatalf("sets returned with the error: %v", sets)
			}
		})
	}
	t.Run("page without the form", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<html><body>Access denied</body></html>`))
		}))
		defer srv.Close()
		_, err := cbe.NewClient(srv.URL, srv.Client()).Latest(context.Background())
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
			t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
		}
	})
}

// TestHistoryRequests checks two requests (page, form) for any range and no
// request for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-04-05", "2026-04-05", 18},
		{"a weekend", "2026-04-03", "2026-04-04", 0},
		{"the recording", "2026-04-01", "2026-04-09", 7 * 18},
		{"a year", "2025-04-10", "2026-04-09", 7 * 18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recording(t, "GetHistoricalData-2026-04-01-2026-04-09.xlsx"))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 2 || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after 2", len(sets), n.Load(), tt.sets)
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, nil)
		_, err := c.History(context.Background(), providertest.Day("2026-04-09"), providertest.Day("2026-04-01"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
