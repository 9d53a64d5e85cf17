package fred_test

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
	"ces/internal/provider/fred"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*fred.Client)(nil)

// key is the test's API key; the recording's URIs hold a placeholder.
const key = "k3y-that-must-not-leak"

// recorded maps each series ID to its recording (testdata/fred/SOURCE.md).
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, s := range fred.H10 {
		m[s.ID] = providertest.ReadFile(t, "../../../testdata/fred/"+s.ID+".json")
	}
	return m
}

// serve answers series/observations from pages by series_id, refusing a
// wrong key with 403 as FRED refuses it, and counts requests.
func serve(t *testing.T, pages map[string][]byte, status int) (*fred.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("api_key") != key {
			http.Error(w, "api_key is not registered", http.StatusForbidden)
			return
		}
		body, ok := pages[q.Get("series_id")]
		if r.URL.Path != "/fred/series/observations" || q.Get("file_type") != "json" || !ok {
			http.NotFound(w, r)
			return
		}
		if status != 0 {
			http.Error(w, "upstream trouble", status)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(body)
	})
	c := fred.NewClient(srv.URL+"/fred/", key, srv.Client())
	// Monday 2026-03-16 18:00 in New York: the release holding March 2-13.
	fred.SetClock(c, func() time.Time { return time.Date(2026, 3, 16, 22, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording: DEXJPUS on 2026-03-02 is "157.48" yen per
// dollar, USD/JPY 157.48 as of 22:00 UTC (17:00 EST); DEXUSEU is "1.169"
// dollars per euro, EUR/USD 1.169 (not inverted); DEXUSUK "1.3393" is
// GBP/USD 1.3393; DEXKOUS "1439.8" is USD/KRW 1439.8. From 2026-03-09
// (EDT) as_of is 21:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		call func(c *fred.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", func(c *fred.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", func(c *fred.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-02"), providertest.Day("2026-03-13"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t), 0)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if int(n.Load()) != len(fred.H10) {
				t.Fatalf("requests = %d, want one per series (%d)", n.Load(), len(fred.H10))
			}
			for _, s := range sets {
				if s.Provider != fred.Name || len(s.PayloadHash) != 64 || (s.Base != "USD" && (len(s.Rates) != 1 || s.Rates[0].Quote != "USD")) {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", "<html><body>Service Unavailable</body></html>"},
		{"empty object", "{}"},
		{"text value", `{"observations":[{"date":"2026-03-13","value":"n/a"}]}`},
		{"zero value", `{"observations":[{"date":"2026-03-13","value":"0"}]}`},
		{"bad date", `{"observations":[{"date":"13/03/2026","value":"159.2"}]}`},
		{"twice", `{"observations":[{"date":"2026-03-13","value":"159.2"},{"date":"2026-03-13","value":"159.2"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := recorded(t)
			pages["DEXJPUS"] = []byte(tt.payload)
			c, _ := serve(t, pages, 0)
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
		dates    int
	}{
		{"two weeks", "2026-03-02", "2026-03-13", 10},
		{"one day", "2026-03-05", "2026-03-05", 1},
		{"a weekend", "2026-03-07", "2026-03-08", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t), 0)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			// One request per series for the whole range, however long.
			if int(n.Load()) != len(fred.H10) {
				t.Fatalf("requests = %d, want %d", n.Load(), len(fred.H10))
			}
			days := map[string]bool{}
			for _, s := range sets {
				days[s.AsOf.Format(time.DateOnly)] = true
			}
			if len(days) != tt.dates {
				t.Fatalf("dates = %d, want %d", len(days), tt.dates)
			}
		})
	}
}

// TestKeyNeverInErrors: whatever fails, the message names the request
// without its query string, so the key does not reach logs.
func TestKeyNeverInErrors(t *testing.T) {
	tests := []struct {
		name     string
		client   func(t *testing.T) *fred.Client
		wantType string
	}{
		{"server error", func(t *testing.T) *fred.Client {
			c, _ := serve(t, recorded(t), http.StatusInternalServerError)
			return c
		}, ""},
		{"bad request", func(t *testing.T) *fred.Client { c, _ := serve(t, recorded(t), http.StatusBadRequest); return c }, provider.TypeRequestRejected},
		{"invalid payload", func(t *testing.T) *fred.Client {
			pages := recorded(t)
			pages["DEXBZUS"] = []byte("<html>" + key + "</html>") // a payload echoing the key
			c, _ := serve(t, pages, 0)
			return c
		}, provider.TypeInvalidPayload},
		{"unreachable", func(t *testing.T) *fred.Client {
			srv := httptest.NewServer(http.NotFoundHandler())
			u := srv.URL
			srv.Close()
			return fred.NewClient(u, key, &http.Client{Timeout: time.Second})
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client(t).History(context.Background(), providertest.Day("2026-03-02"), providertest.Day("2026-03-13"))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), key) {
				t.Fatalf("error %q contains the API key", err)
			}
			var pe *provider.PermanentError
			if tt.wantType != "" && (!errors.As(err, &pe) || pe.Type != tt.wantType) {
				t.Fatalf("err = %v, want %s", err, tt.wantType)
			}
		})
	}
}

func TestKeyRefusedOrMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "api_key is not registered", http.StatusForbidden)
	}))
	defer srv.Close()
	for _, k := range []string{"wrong-key", ""} {
		t.Run("key "+k, func(t *testing.T) {
			_, err := fred.NewClient(srv.URL, k, srv.Client()).Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeAuthFailed {
				t.Fatalf("err = %v, want %s", err, provider.TypeAuthFailed)
			}
			if k != "" && strings.Contains(err.Error(), k) {
				t.Fatalf("error %q contains the key", err)
			}
		})
	}
}
