package cbk_test

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
	"ces/internal/provider/cbk"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbk.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/cbk/get_wdtable-193.json")
}

// serve stands in for the CBK's admin-ajax endpoint: a POST for table 193
// asking every row answers payload. It counts the requests.
func serve(t *testing.T, payload []byte) (*cbk.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		if r.Method != http.MethodPost || r.URL.Path != "/wp-admin/admin-ajax.php" || q.Get("action") != "get_wdtable" ||
			q.Get("table_id") != "193" || !strings.Contains(string(body), "length=-1") {
			http.Error(w, "0", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Write(payload)
	})
	return cbk.NewClient(srv.URL, srv.Client()), n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: ["05\/01\/2024","US DOLLAR","157.9012"]
// is golden "USD KES 157.9012" (shillings per dollar); "JPY (100)" 109.3764
// is "JPY KES 1.093764" (per ONE yen: USD/JPY = 157.9012/1.093764 ≈ 144,
// right for January 2024); "KES / USHS" 24.0657 is "KES UGX 24.0657"
// (Uganda shillings per Kenya shilling, not inverted: 157.9 × 24.07 ≈ 3800
// UGX per dollar). as_of 17:00 in Nairobi (UTC+3) = 14:00 UTC.
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
				sets, err = c.History(context.Background(), providertest.Day("2024-01-01"), providertest.Day("2026-03-31"))
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
	sets, err := cbk.Parse(cbk.Name, recording(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, quote, day, want string }{
		{"USD", "KES", "2024-01-05", "157.9012"},
		{"JPY", "KES", "2024-01-05", "1.093764"}, // 109.3764 per 100 yen
		{"SEK", "KES", "2024-01-05", "15.4086"},  // SW KRONER
		{"KES", "UGX", "2024-01-05", "24.0657"},  // KES / USHS: per shilling
		{"KES", "BIF", "2024-01-05", "18.0461"},
		{"USD", "KES", "2025-11-28", "129.8194"}, // listed twice, identically
		{"AUD", "KES", "2026-03-19", "91.5800"},
	}
	for _, tt := range tests {
		t.Run(tt.base+tt.quote+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base != tt.base || s.AsOf.Format(time.DateOnly) != tt.day {
					continue
				}
				for _, r := range s.Rates {
					if r.Quote == tt.quote {
						if fx.Exact(r.Value) != tt.want {
							t.Fatalf("%s%s = %s, want %s", tt.base, tt.quote, fx.Exact(r.Value), tt.want)
						}
						if want := providertest.Day(tt.day).Add(14 * time.Hour); !s.AsOf.Equal(want) {
							t.Fatalf("as_of = %s, want %s", s.AsOf, want)
						}
						return
					}
				}
			}
			t.Fatalf("no %s%s on %s", tt.base, tt.quote, tt.day)
		})
	}
	if len(sets) != 5*18 { // 17 currencies against KES plus one KES set, per date
		t.Fatalf("sets = %d, want %d", len(sets), 5*18)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"wordpress refusal", `0`},
		{"empty JSON", `{}`},
		{"no rows", `{"draw":1,"recordsTotal":"0","recordsFiltered":"0","data":[]}`},
		{"short row", `{"data":[["19\/03\/2026","US DOLLAR"]]}`},
		{"bad date", `{"data":[["2026-03-19","US DOLLAR","129.0000"]]}`},
		{"text rate", `{"data":[["19\/03\/2026","US DOLLAR","-"]]}`},
		{"conflicting duplicate", `{"data":[["19\/03\/2026","US DOLLAR","129.0000"],["19\/03\/2026","US DOLLAR","130.0000"]]}`},
		{"conflicting cross duplicate", `{"data":[["19\/03\/2026","US DOLLAR","129.0000"],["19\/03\/2026","KES / RWF","11.2"],["19\/03\/2026","KES / RWF","11.3"]]}`},
		{"only unknown names", `{"data":[["19\/03\/2026","GOLD","1.0"]]}`},
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

// TestHistoryRequests checks one request for any range (the table holds
// every date) and none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-18", "2026-03-18", 18},
		{"a weekend", "2026-03-21", "2026-03-22", 0},
		{"the last week", "2026-03-16", "2026-03-22", 3 * 18},
		{"everything", "2000-01-01", "2026-12-31", 5 * 18},
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
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-03-19"), providertest.Day("2026-03-17"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
