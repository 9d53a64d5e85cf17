package bcra_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bcra"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bcra.Client)(nil)

// recorded maps a fecha to its trimmed recording (testdata/bcra/SOURCE.md).
func recorded(t *testing.T) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, d := range []string{"2026-03-19", "2026-03-20"} {
		m[d] = providertest.ReadFile(t, "../../../testdata/bcra/Cotizaciones_"+d+".json")
	}
	return m
}

// serve answers Cotizaciones from pages by fecha (404 for others) and
// counts requests.
func serve(t *testing.T, pages map[string][]byte) (*bcra.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("fecha")]
		if r.URL.Path != "/estadisticascambiarias/v1.0/Cotizaciones" || !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	})
	c := bcra.NewClient(srv.URL+"/estadisticascambiarias/v1.0/", srv.Client())
	// 2026-03-20 19:00 in Buenos Aires, the recording's last date.
	bcra.SetClock(c, func() time.Time { return time.Date(2026, 3, 20, 22, 0, 0, 0, time.UTC) })
	return c, n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording of 2026-03-19 (as_of 21:00 UTC, 18:00 in
// Buenos Aires): USD "tipoCotizacion":1394.50000000 gives USD/ARS
// 1394.50000000, digits kept; EUR "tipoPase":1.15600000 (dollars per
// euro) times 1394.5 is its "tipoCotizacion":1612.04200000, EUR/ARS;
// VND "DONG VIETNAM (C/1.000 UNIDADES)","tipoCotizacion":53.04096500
// gives VND/ARS 0.05304096500. REF, MXP, VEB and XAU are skipped.
func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		requests int32
		call     func(c *bcra.Client) ([]fx.RateSet, error)
	}{
		{"latest.golden", 1, func(c *bcra.Client) ([]fx.RateSet, error) { return c.Latest(context.Background()) }},
		{"history.golden", 2, func(c *bcra.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-19"), providertest.Day("2026-03-20"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t))
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			for _, s := range sets {
				if s.Provider != bcra.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "ARS" || len(s.PayloadHash) != 64 {
					t.Fatalf("set %+v", s)
				}
			}
			providertest.Golden(t, tt.name, providertest.Render(sets))
		})
	}
}

func TestInvalid(t *testing.T) {
	const head = `{"status":200,"results":{"fecha":"2026-03-20","detalle":[`
	tests := []struct {
		name    string
		payload string
	}{
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"empty object", `{}`},
		{"error answer", `{"status":400,"errorMessages":["fecha invalida"]}`},
		{"bad fecha", `{"status":200,"results":{"fecha":"20/03/2026","detalle":[{"codigoMoneda":"USD","descripcion":"DOLAR E.E.U.U.","tipoCotizacion":1393.43}]}}`},
		{"text quotation", head + `{"codigoMoneda":"USD","descripcion":"DOLAR E.E.U.U.","tipoCotizacion":"n/a"}]}}`},
		{"zero quotation", head + `{"codigoMoneda":"USD","descripcion":"DOLAR E.E.U.U.","tipoCotizacion":0.00000000}]}}`},
		{"unit not a power of ten", head + `{"codigoMoneda":"VND","descripcion":"DONG VIETNAM (C/1.500 UNIDADES)","tipoCotizacion":53.04}]}}`},
		{"only skipped codes", head + `{"codigoMoneda":"REF","descripcion":"DOLAR REFERENCIA COM 3500","tipoCotizacion":1393.438}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, map[string][]byte{"2026-03-20": []byte(tt.payload)})
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
		requests int32
		dates    int
	}{
		{"two weekdays", "2026-03-19", "2026-03-20", 2, 2},
		{"a weekend asks nothing", "2026-03-21", "2026-03-22", 0, 0},
		{"thursday to sunday asks the weekdays only", "2026-03-19", "2026-03-22", 2, 2},
		{"one day", "2026-03-20", "2026-03-20", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, recorded(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			// At most one request per publication day (weekdays).
			if n.Load() != tt.requests {
				t.Fatalf("requests = %d, want %d", n.Load(), tt.requests)
			}
			days := map[string]bool{}
			for _, s := range sets {
				days[s.AsOf.Format(time.DateOnly)] = true
			}
			if len(days) != tt.dates {
				t.Fatalf("dates = %v, want %d", days, tt.dates)
			}
		})
	}
}

// TestEmptyDayIsNoPublication: an answer without quotations is a day the
// BCRA did not quote, so Latest looks at the day before.
func TestEmptyDayIsNoPublication(t *testing.T) {
	pages := recorded(t)
	pages["2026-03-20"] = []byte(`{"status":200,"results":{"fecha":"2026-03-20","detalle":[]}}`)
	c, n := serve(t, pages)
	sets, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 || sets[0].AsOf.Format(time.DateOnly) != "2026-03-19" {
		t.Fatalf("latest of %s after %d requests, want 2026-03-19 after 2", sets[0].AsOf, n.Load())
	}
}

func TestReversedRange(t *testing.T) {
	c, n := serve(t, recorded(t))
	_, err := c.History(context.Background(), providertest.Day("2026-03-20"), providertest.Day("2026-03-19"))
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want %s after none", err, n.Load(), provider.TypeRequestRejected)
	}
}
