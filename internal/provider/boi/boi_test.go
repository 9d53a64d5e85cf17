package boi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/boi"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*boi.Client)(nil)

func recording(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/boi/EXR-OF00-2026-03-01-2026-03-20.csv")
}

// serve stands in for the SDMX service: a request for the OF00 series as
// CSV with both period bounds answers payload (the client keeps the asked
// dates); anything else is a 400. It counts the requests.
func serve(t *testing.T, payload []byte) (*boi.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0/" || q.Get("c[DATA_TYPE]") != "OF00" ||
			q.Get("format") != "csv" || q.Get("startperiod") == "" || q.Get("endperiod") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Write(payload)
	})
	return boi.NewClient(srv.URL+"/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0", srv.Client()), n
}

// TestGolden checks the parsed recording against the golden files. Checked
// by hand against the raw recording: RER_USD_ILS ... UNIT_MULT 0 ...
// 2026-03-02,3.073 is golden "USD ILS 3.073" (shekels per dollar, never
// inverted); RER_JPY_ILS with UNIT_MULT 2 and 1.971 is golden
// "JPY ILS 0.01971" (per ONE yen; USD/JPY about 156 confirms 3.073/156 ≈
// 0.0197); RER_LBP_ILS with UNIT_MULT 1 and 0.0003 is "LBP ILS 0.00003".
// as_of 16:00 in Jerusalem (IST, UTC+2) = 14:00 UTC.
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
				sets, err = c.History(context.Background(), providertest.Day("2026-03-01"), providertest.Day("2026-03-20"))
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
	sets, err := boi.Parse(boi.Name, recording(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ base, day, want string }{
		{"USD", "2026-03-02", "3.073"},
		{"JPY", "2026-03-02", "0.01971"}, // 1.971 per 100 yen
		{"LBP", "2026-03-06", "0.00003"}, // 0.0003 per 10 pounds
		{"EUR", "2026-03-05", "3.544"},
		{"ZAR", "2026-03-02", "0.1813"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			for _, s := range sets {
				if s.Base == tt.base && s.AsOf.Format(time.DateOnly) == tt.day {
					if len(s.Rates) != 1 || s.Rates[0].Quote != "ILS" || fx.Exact(s.Rates[0].Value) != tt.want {
						t.Fatalf("set %+v, want ILS %s", s, tt.want)
					}
					if want := providertest.Day(tt.day).Add(14 * time.Hour); !s.AsOf.Equal(want) {
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
	const header = "SERIES_CODE,FREQ,BASE_CURRENCY,COUNTER_CURRENCY,UNIT_MEASURE,DATA_TYPE,DATA_SOURCE,TIME_COLLECT,CONF_STATUS,PUB_WEBSITE,UNIT_MULT,COMMENTS,TIME_PERIOD,OBS_VALUE,RELEASE_STATUS\n"
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty JSON", `{}`},
		{"empty body", ``},
		{"CSV without the value column", "SERIES_CODE,BASE_CURRENCY,COUNTER_CURRENCY,UNIT_MULT,TIME_PERIOD\nRER_USD_ILS,USD,ILS,0,2026-03-02\n"},
		{"other counter currency", header + "RER_USD_EUR,D,USD,EUR,EUR,OF00,BOI_MRKT,V,F,Y,0,,2026-03-02,0.86,YP\n"},
		{"bad unit multiplier", header + "RER_JPY_ILS,D,JPY,ILS,ILS,OF00,BOI_MRKT,V,F,Y,x,,2026-03-02,1.971,YP\n"},
		{"bad date", header + "RER_USD_ILS,D,USD,ILS,ILS,OF00,BOI_MRKT,V,F,Y,0,,02/03/2026,3.073,YP\n"},
		{"text value", header + "RER_USD_ILS,D,USD,ILS,ILS,OF00,BOI_MRKT,V,F,Y,0,,2026-03-02,n/a,YP\n"},
		{"ragged row", header + "RER_USD_ILS,D,USD\n"},
		{"only missing values", header + "RER_USD_ILS,D,USD,ILS,ILS,OF00,BOI_MRKT,V,F,Y,0,,2026-03-02,NaN,YP\nRER_EUR_ILS,D,EUR,ILS,ILS,OF00,BOI_MRKT,V,F,Y,0,,2026-03-02,,YP\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.payload))
			sets, err := c.History(context.Background(), providertest.Day("2026-03-01"), providertest.Day("2026-03-20"))
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

// TestHistoryRequests checks one request for any range (the service serves
// ranges), a header-only answer or a 404 read as no publication, and no
// request for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-02", "2026-03-02", 14},
		{"a weekend", "2026-03-07", "2026-03-08", 0},
		{"the recording", "2026-03-01", "2026-03-20", 14 + 7 + 7},
		{"a year", "2025-03-21", "2026-03-20", 14 + 7 + 7},
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
	t.Run("header only is empty", func(t *testing.T) {
		c, _ := serve(t, []byte("SERIES_CODE,FREQ,BASE_CURRENCY,COUNTER_CURRENCY,UNIT_MEASURE,DATA_TYPE,DATA_SOURCE,TIME_COLLECT,CONF_STATUS,PUB_WEBSITE,UNIT_MULT,COMMENTS,TIME_PERIOD,OBS_VALUE,RELEASE_STATUS\n"))
		sets, err := c.History(context.Background(), providertest.Day("2026-03-07"), providertest.Day("2026-03-08"))
		if err != nil || len(sets) != 0 {
			t.Fatalf("%d sets, err %v", len(sets), err)
		}
	})
	t.Run("404 is empty", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		sets, err := boi.NewClient(srv.URL, srv.Client()).History(context.Background(), providertest.Day("2026-03-07"), providertest.Day("2026-03-08"))
		if err != nil || len(sets) != 0 {
			t.Fatalf("%d sets, err %v", len(sets), err)
		}
	})
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n := serve(t, recording(t))
		_, err := c.History(context.Background(), providertest.Day("2026-03-20"), providertest.Day("2026-03-01"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
