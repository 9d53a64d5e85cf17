package banrep_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/banrep"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*banrep.Client)(nil)

const recording = "../../../testdata/banrep/32sa-8pi3.json"

// serve answers the dataset's path with answer (the recording when nil)
// and counts the requests; history requests must carry a $where range.
func serve(t *testing.T, answer []byte) (*banrep.Client, *atomic.Int32) {
	t.Helper()
	if answer == nil {
		answer = providertest.ReadFile(t, recording)
	}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/resource/32sa-8pi3.json" || q.Get("$order") == "" || q.Get("$limit") == "" {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if w := q.Get("$where"); w != "" && !strings.HasPrefix(w, "vigenciadesde>='") {
			t.Errorf("$where = %q", w)
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.Write(answer)
	})
	return banrep.NewClient(srv.URL+"/resource/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording: the TRM valid from 2026-03-21 (to the
// 24th) is "3704.87" pesos per ONE dollar (Base USD, Quote COP, not
// inverted), as_of midnight in Bogotá (UTC-5) = 05:00 UTC; the one valid
// from 2026-03-17 is "3691.9", its digits kept.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *banrep.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *banrep.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", func(c *banrep.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-16"), providertest.Day("2026-03-24"))
		}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, nil)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			for _, s := range sets {
				if s.Provider != banrep.Name || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestInvalidPayload(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"html error page", "<html><body>503 Service Unavailable</body></html>"},
		{"empty object", "{}"},
		{"empty array", "[]"},
		{"socrata error", `{"code":"query.soql.no-such-column","error":true,"message":"No such column: fecha"}`},
		{"other unit", `[{"valor":"3691.9","unidad":"USD","vigenciadesde":"2026-03-17T00:00:00.000","vigenciahasta":"2026-03-17T00:00:00.000"}]`},
		{"no value", `[{"unidad":"COP","vigenciadesde":"2026-03-17T00:00:00.000","vigenciahasta":"2026-03-17T00:00:00.000"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.body))
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

// TestHistoryRequests checks that any range costs one request.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-18", "2026-03-18", 1},
		{"whole recording", "2026-03-01", "2026-03-31", 5},
		{"a holiday inside a weekend TRM", "2026-03-23", "2026-03-23", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			if got := n.Load(); got != 1 {
				t.Fatalf("requests = %d, want 1", got)
			}
		})
	}
}
