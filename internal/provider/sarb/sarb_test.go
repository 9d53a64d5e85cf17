package sarb_test

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
	"ces/internal/provider/providertest"
	"ces/internal/provider/sarb"
)

var _ provider.Source = (*sarb.Client)(nil)

func recording(t *testing.T, code string) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/sarb/"+code+".json")
}

// serve stands in for the SARB API: GetTimeseriesObservations/<code>/<from>/<to>
// answers the code's recording (the client keeps the asked dates), or
// override[code] when set. It counts the requests.
func serve(t *testing.T, override map[string]string) (*sarb.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/SarbWebApi/WebIndicators/Shared/GetTimeseriesObservations/"), "/")
		if len(parts) != 3 || !strings.HasSuffix(parts[1], "T00:00:00") || !strings.HasSuffix(parts[2], "T00:00:00") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if body, ok := override[parts[0]]; ok {
			w.Write([]byte(body))
			return
		}
		b, err := os.ReadFile("../../../testdata/sarb/" + parts[0] + ".json")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	return sarb.NewClient(srv.URL+"/SarbWebApi", srv.Client()), n
}

// TestGolden checks the parsed recordings against the golden files.
// Checked by hand against the raw recordings: EXCX135D "Rand per US
// Dollar" 17.1302 on 2026-03-27 is golden "USD ZAR 17.1302"; EXCB120D
// "Japan: Yen per Rand" 9.3324 is "ZAR JPY 9.3324" (yen per rand, NOT
// inverted into rand per yen: 17.1302 × 9.3324 ≈ 160 yen per dollar);
// EXCB036D's 0.3090 on 2026-03-24 keeps the JSON number's trailing zero.
// as_of 17:00 in Johannesburg (UTC+2) = 15:00 UTC.
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
			c, n := serve(t, nil)
			var sets []fx.RateSet
			var err error
			if tt.latest {
				sets, err = c.Latest(context.Background())
			} else {
				sets, err = c.History(context.Background(), providertest.Day("2026-03-23"), providertest.Day("2026-03-27"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != int32(len(sarb.AllSeries)) {
				t.Fatalf("requests = %d, want %d (one per series)", n.Load(), len(sarb.AllSeries))
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
		})
	}
}

func TestValues(t *testing.T) {
	c, _ := serve(t, nil)
	sets, err := c.History(context.Background(), providertest.Day("2026-03-23"), providertest.Day("2026-03-27"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, quote, day, want string }{
		{"USD", "ZAR", "2026-03-27", "17.1302"},
		{"GBP", "ZAR", "2026-03-27", "22.8173"},
		{"EUR", "ZAR", "2026-03-24", "19.6299"},
		{"ZAR", "JPY", "2026-03-27", "9.3324"},
		{"ZAR", "AUD", "2026-03-27", "0.0847"},
		{"ZAR", "BRL", "2026-03-24", "0.3090"}, // the JSON number's trailing zero kept
		{"ZAR", "KES", "2026-03-27", "7.5890"},
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
						if want := providertest.Day(tt.day).Add(15 * time.Hour); !s.AsOf.Equal(want) {
							t.Fatalf("as_of = %s, want %s", s.AsOf, want)
						}
						return
					}
				}
			}
			t.Fatalf("no %s%s on %s", tt.base, tt.quote, tt.day)
		})
	}
	if len(sets) != 4*4 { // USD, GBP, EUR and the ZAR set, on 4 dates
		t.Fatalf("sets = %d, want 16", len(sets))
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, code, payload string
	}{
		{"html error page", "EXCX135D", `<html><body>Service Unavailable</body></html>`},
		{"empty object", "EXCX135D", `{}`},
		{"null", "EXCB080D", `null`},
		{"direction flipped", "EXCX135D", `[{"Period":"2026-03-27T00:00:00","Timeseries":"US Dollar per Rand","Value":0.0584}]`},
		{"per-rand series turned round", "EXCB120D", `[{"Period":"2026-03-27T00:00:00","Timeseries":"Rand per Japanese Yen","Value":0.1071}]`},
		{"bad period", "EXCX135D", `[{"Period":"27/03/2026","Timeseries":"Rand per US Dollar","Value":17.1302}]`},
		{"text value", "EXCX135D", `[{"Period":"2026-03-27T00:00:00","Timeseries":"Rand per US Dollar","Value":"n/a"}]`},
		{"zero value", "EXCB080D", `[{"Period":"2026-03-27T00:00:00","Timeseries":"Australia: Dollar per Rand","Value":0}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, map[string]string{tt.code: tt.payload})
			sets, err := c.History(context.Background(), providertest.Day("2026-03-23"), providertest.Day("2026-03-27"))
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

// TestHistoryRequests checks one request per series whatever the range
// (the API serves ranges, one series at a time) and none for a reversed
// range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-25", "2026-03-25", 4},
		{"the holiday", "2026-03-23", "2026-03-23", 0},
		{"the week", "2026-03-23", "2026-03-27", 16},
		{"a year", "2025-03-28", "2026-03-27", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != int32(len(sarb.AllSeries)) || len(sets) != tt.sets {
				t.Fatalf("%d sets after %d requests, want %d after %d", len(sets), n.Load(), tt.sets, len(sarb.AllSeries))
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, nil)
		_, err := c.History(context.Background(), providertest.Day("2026-03-27"), providertest.Day("2026-03-23"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
