package bcn_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bcn"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bcn.Client)(nil)

// recording is RecuperaTC_Mes's answer for March 2026, as recorded (16 to
// 20 March; see testdata/bcn/SOURCE.md).
const recording = "../../../testdata/bcn/RecuperaTC_Mes-2026-03.xml"

// emptyMonth is the answer for a month with no rates.
const emptyMonth = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
	`<RecuperaTC_MesResponse xmlns="http://servicios.bcn.gob.ni/"><RecuperaTC_MesResult><Detalle_TC xmlns=""></Detalle_TC></RecuperaTC_MesResult></RecuperaTC_MesResponse></soap:Body></soap:Envelope>`

var monthParams = regexp.MustCompile(`<Ano>(\d+)</Ano><Mes>(\d+)</Mes>`)

// serve stands in for the SOAP endpoint: a RecuperaTC_Mes call answers
// months[year-month] (emptyMonth when absent). It counts requests and
// records the months asked for.
func serve(t *testing.T, months map[string][]byte, now time.Time) (*bcn.Client, *atomic.Int32, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := monthParams.FindStringSubmatch(string(body))
		if r.Method != http.MethodPost || r.Header.Get("SOAPAction") != `"http://servicios.bcn.gob.ni/RecuperaTC_Mes"` || m == nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		key := m[1] + "-" + m[2]
		mu.Lock()
		asked = append(asked, key)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if b, ok := months[key]; ok {
			w.Write(b)
			return
		}
		io.WriteString(w, emptyMonth)
	})
	c := bcn.NewClient(srv.URL, srv.Client())
	bcn.SetClock(c, func() time.Time { return now })
	return c, n, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), asked...) }
}

func march(t *testing.T) map[string][]byte {
	return map[string][]byte{"2026-3": providertest.ReadFile(t, recording)}
}

// TestGolden compares Latest and History, parsed from the recording, with
// the golden files. Checked by hand against the recording: every day of
// 16 to 20 March 2026 has Valor 36.6243, córdobas per US dollar (the BCN
// has held the córdoba at 36.6243 per dollar since 2024), golden "USD NIO
// 36.6243"; 08:00 in Managua (UTC-6) is 14:00 UTC.
func TestGolden(t *testing.T) {
	recorded := time.Date(2026, 3, 24, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name, golden string
		call         func(*bcn.Client) ([]fx.RateSet, error)
	}{
		{"latest", "latest.golden", func(c *bcn.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}},
		{"history", "history.golden", func(c *bcn.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-16"), providertest.Day("2026-03-20"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, march(t), recorded)
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			providertest.Golden(t, tt.golden, providertest.Render(sets))
			if got := asked(); n.Load() != 1 || len(got) != 1 || got[0] != "2026-3" {
				t.Fatalf("asked %v in %d requests, want [2026-3] in 1", got, n.Load())
			}
		})
	}
}

// TestLatest checks Latest returns the rate in force at the clock's
// instant, reaching back to last month's table at the start of a month.
func TestLatest(t *testing.T) {
	tests := []struct {
		name     string
		now      time.Time
		want     string
		requests int32
	}{
		{"before the day's as_of", time.Date(2026, 3, 18, 13, 59, 0, 0, time.UTC), "2026-03-17", 1},
		{"at the day's as_of", time.Date(2026, 3, 18, 14, 0, 0, 0, time.UTC), "2026-03-18", 1},
		{"a table ahead of today", time.Date(2026, 3, 16, 20, 0, 0, 0, time.UTC), "2026-03-16", 1},
		{"a new month not yet published", time.Date(2026, 4, 1, 15, 0, 0, 0, time.UTC), "2026-03-20", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, _ := serve(t, march(t), tt.now)
			sets, err := c.Latest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != 1 || sets[0].AsOf.Format(time.DateOnly) != tt.want || n.Load() != tt.requests {
				t.Fatalf("%d sets (%v) after %d requests, want %s after %d", len(sets), sets, n.Load(), tt.want, tt.requests)
			}
		})
	}
	t.Run("nothing in force", func(t *testing.T) {
		c, n, _ := serve(t, march(t), time.Date(2026, 3, 16, 13, 0, 0, 0, time.UTC))
		_, err := c.Latest(context.Background())
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload || n.Load() != 2 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"html page", `<html><body>Error</body></html>`},
		{"not xml", `{"data":[]}`},
		{"another operation", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RecuperaTC_DiaResponse xmlns="http://servicios.bcn.gob.ni/"><RecuperaTC_DiaResult>36.6243</RecuperaTC_DiaResult></RecuperaTC_DiaResponse></soap:Body></soap:Envelope>`},
		{"bad date", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RecuperaTC_MesResponse><RecuperaTC_MesResult><Detalle_TC><Tc><Fecha>16/03/2026</Fecha><Valor>36.6243</Valor></Tc></Detalle_TC></RecuperaTC_MesResult></RecuperaTC_MesResponse></soap:Body></soap:Envelope>`},
		{"no value", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RecuperaTC_MesResponse><RecuperaTC_MesResult><Detalle_TC><Tc><Fecha>2026-03-16</Fecha><Valor></Valor></Tc></Detalle_TC></RecuperaTC_MesResult></RecuperaTC_MesResponse></soap:Body></soap:Envelope>`},
		{"a day twice", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><RecuperaTC_MesResponse><RecuperaTC_MesResult><Detalle_TC><Tc><Fecha>2026-03-16</Fecha><Valor>36.6243</Valor></Tc><Tc><Fecha>2026-03-16</Fecha><Valor>36.6243</Valor></Tc></Detalle_TC></RecuperaTC_MesResult></RecuperaTC_MesResponse></soap:Body></soap:Envelope>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := serve(t, map[string][]byte{"2026-3": []byte(tt.payload)}, time.Date(2026, 3, 24, 18, 0, 0, 0, time.UTC))
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

// TestHistoryRequests checks one request per calendar month of the range
// and none for a reversed range.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
		asked    []string
	}{
		{"one day", "2026-03-18", "2026-03-18", 1, []string{"2026-3"}},
		{"days the recording lacks", "2026-03-21", "2026-03-22", 0, []string{"2026-3"}},
		{"across a year end", "2025-12-30", "2026-03-31", 5, []string{"2025-12", "2026-1", "2026-2", "2026-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, asked := serve(t, march(t), time.Date(2026, 3, 24, 18, 0, 0, 0, time.UTC))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			got := asked()
			if len(sets) != tt.sets || int(n.Load()) != len(tt.asked) || len(got) != len(tt.asked) {
				t.Fatalf("%d sets after asking %v, want %d after %v", len(sets), got, tt.sets, tt.asked)
			}
			for i := range got {
				if got[i] != tt.asked[i] {
					t.Fatalf("asked %v, want %v", got, tt.asked)
				}
			}
		})
	}
	t.Run("reversed range makes no request", func(t *testing.T) {
		c, n, _ := serve(t, march(t), time.Date(2026, 3, 24, 18, 0, 0, 0, time.UTC))
		_, err := c.History(context.Background(), providertest.Day("2026-03-20"), providertest.Day("2026-03-16"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected || n.Load() != 0 {
			t.Fatalf("err = %v after %d requests", err, n.Load())
		}
	})
}
