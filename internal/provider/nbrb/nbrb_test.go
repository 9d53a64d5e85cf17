package nbrb_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/nbrb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*nbrb.Client)(nil)

// recording is the API's answer to /exrates/rates?periodicity=0 on
// 2026-03-17, cut to five currencies (see testdata/nbrb/SOURCE.md).
const recording = "../../../testdata/nbrb/rates-periodicity-0.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, recording)
}

// serve answers /exrates/rates?periodicity=0 without a date or on
// 2026-03-17 with payload, any other date with an empty array (a date the
// stand-in has no rates for), counting requests.
func serve(t *testing.T, payload []byte) (*nbrb.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/exrates/rates" || q.Get("periodicity") != "0" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch q.Get("ondate") {
		case "", "2026-03-17":
			w.Write(payload)
		default:
			w.Write([]byte(`[]`))
		}
	})
	return nbrb.NewClient(srv.URL+"/exrates/", srv.Client()), n
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: USD (scale 1)
// is 2.9463 roubles, read as "USD BYN 2.9463"; JPY (scale 100) 1.8494 per
// 100 yen, read as 0.018494; VND (scale 100000) 11.2071 as 0.000112071;
// AMD (scale 1000) 7.8014 as 0.0078014.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(*nbrb.Client) ([]fx.RateSet, error)
		requests     int32
	}{
		{"latest", "latest.golden", func(c *nbrb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 1},
		{"history", "history.golden", func(c *nbrb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-16"), providertest.Day("2026-03-18"))
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
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
	tests := []struct {
		name     string
		from, to string
		sets     int
		requests int32
	}{
		{"one day", "2026-03-17", "2026-03-17", 5, 1},
		{"a week", "2026-03-11", "2026-03-17", 5, 7},
		{"days without rates", "2026-03-18", "2026-03-19", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d (one per calendar day)", n.Load(), tt.requests)
			}
		})
	}
	c, n := serve(t, fixture(t))
	if _, err := c.History(context.Background(), providertest.Day("2026-03-18"), providertest.Day("2026-03-17")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err %v after %d requests, want an error and none", err, n.Load())
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name, payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty json", `{}`},
		{"null", `null`},
		{"empty latest", `[]`},
		{"bad date", `[{"Cur_ID":431,"Date":"17.03.2026","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":2.9463}]`},
		{"two dates", `[{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":2.9463},{"Cur_ID":451,"Date":"2026-03-16T00:00:00","Cur_Abbreviation":"EUR","Cur_Scale":1,"Cur_OfficialRate":3.3741}]`},
		{"text rate", `[{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":"n/a"}]`},
		{"zero rate", `[{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":0}]`},
		{"scale not a power of ten", `[{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":50,"Cur_OfficialRate":2.9463}]`},
		{"only a non-ISO code", `[{"Cur_ID":1,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"QQQ","Cur_Scale":1,"Cur_OfficialRate":1.5}]`},
		{"duplicate", `[{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":2.9463},{"Cur_ID":431,"Date":"2026-03-17T00:00:00","Cur_Abbreviation":"USD","Cur_Scale":1,"Cur_OfficialRate":2.9463}]`},
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
