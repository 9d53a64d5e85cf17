package bcb_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/bcb"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*bcb.Client)(nil)

const recordings = "../../../testdata/bcb"

// serve replays the recorded answer of the currency a request asks for
// (@moeda), or answer when it is set, and counts the requests.
func serve(t *testing.T, answer []byte) (*bcb.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !strings.HasSuffix(r.URL.Path, "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)") ||
			q.Get("$filter") != "tipoBoletim eq 'Fechamento'" || q.Get("$format") != "json" ||
			q.Get("@dataInicial") == "" || q.Get("@dataFinalCotacao") == "" {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if answer != nil {
			w.Write(answer)
			return
		}
		code := strings.Trim(q.Get("@moeda"), "'")
		b, err := os.ReadFile(filepath.Join(recordings, "CotacaoMoedaPeriodo-"+code+".json"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8;odata.metadata=minimal")
		w.Write(b)
	})
	return bcb.NewClient(srv.URL+"/olinda/servico/PTAX/versao/v1/odata/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording: USD on 2026-03-06 is bought at 5.28720
// and sold at 5.28780 reais per dollar, middle 5.28750; JPY that day is
// 0.03355 both ways (reais per ONE yen, not per 100), middle 0.03355; the
// bulletin time 2026-03-06 13:10:27.63 in Brasília (UTC-3) is 16:10:27.63
// UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *bcb.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *bcb.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 10},
		{"history", "history.golden", func(c *bcb.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-03"), providertest.Day("2026-03-05"))
		}, 30},
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
				if s.Provider != bcb.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "BRL" || len(s.PayloadHash) != 64 {
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
		{"html error page", "<html><body>Servico indisponivel</body></html>"},
		{"empty object", "{}"},
		{"no rates", `{"value":[{"cotacaoCompra":null,"cotacaoVenda":null,"dataHoraCotacao":"2026-03-06 13:10:27.63","tipoBoletim":"Fechamento"}]}`},
		{"bad time", `{"value":[{"cotacaoCompra":5.1,"cotacaoVenda":5.2,"dataHoraCotacao":"06/03/2026","tipoBoletim":"Fechamento"}]}`},
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

// TestHistoryRequests checks that a range costs one request per currency,
// however many days it spans.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		sets     int
	}{
		{"one day", "2026-03-04", "2026-03-04", 10},
		{"whole recording", "2026-03-01", "2026-03-07", 50},
		{"a weekend", "2026-03-07", "2026-03-08", 0},
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
			if got := int(n.Load()); got != len(bcb.Currencies) {
				t.Fatalf("requests = %d, want %d (one per currency)", got, len(bcb.Currencies))
			}
		})
	}
	c, n := serve(t, nil)
	if _, err := c.History(context.Background(), providertest.Day("2026-03-05"), providertest.Day("2026-03-04")); err == nil || n.Load() != 0 {
		t.Fatalf("reversed range: err = %v, requests = %d; want an error and no request", err, n.Load())
	}
}
