package mas_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/mas"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*mas.Client)(nil)

const (
	formFile = "../../../testdata/mas/ExchangeRates.aspx.form.html"
	csvFile  = "../../../testdata/mas/ExchangeRates-2026-03.csv"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	return providertest.ReadFile(t, path)
}

// serve answers GET ExchangeRates.aspx with the recorded form and a POST
// with answer (the recorded CSV when nil), after checking that the
// postback carries the form's view state, the 21 ticked currencies, the
// daily frequency and the asked months. It counts the requests.
func serve(t *testing.T, answer []byte, months [4]string) (*mas.Client, *atomic.Int32) {
	t.Helper()
	form := read(t, formFile)
	if answer == nil {
		answer = read(t, csvFile)
	}
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/statistics/msb/ExchangeRates.aspx" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(form)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		const p = "ctl00$ContentPlaceHolder1$"
		boxes := 0
		for k, v := range r.PostForm {
			if strings.Contains(k, "CheckBoxList$") && v[0] == "on" {
				boxes++
			}
		}
		got := [4]string{r.PostForm.Get(p + "StartYearDropDownList"), r.PostForm.Get(p + "StartMonthDropDownList"),
			r.PostForm.Get(p + "EndYearDropDownList"), r.PostForm.Get(p + "EndMonthDropDownList")}
		if !strings.HasPrefix(r.PostForm.Get("__VIEWSTATE"), "F3HhhhI8r6bEr9rLvJ49k7quNDdtPhb/7m2K+ZsH") ||
			r.PostForm.Get("__EVENTVALIDATION") == "" || r.PostForm.Get(p+"FrequencyDropDownList") != "D" ||
			r.PostForm.Get(p+"DownloadButton") != "Download" || boxes != 21 || (months != [4]string{} && got != months) {
			t.Errorf("postback: months %v, %d boxes, form %v", got, boxes, len(r.PostForm))
			http.Error(w, "bad postback", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Write(answer)
	})
	return mas.NewClient(srv.URL+"/statistics/msb/", srv.Client()), n
}

// TestGolden checks Latest and History against the golden files. Checked
// by hand against the recording, 2026-03-31: "S$ Per Unit of US Dollar"
// 1.2913 gives USD→SGD 1.2913; "S$ Per 100 Units of Japanese Yen" 0.8085
// gives JPY→SGD 0.008085 per ONE yen; "S$ Per 100 Units of Vietnamese
// Dong" 0.004902 gives 0.00004902; as_of 18:00 in Singapore (UTC+8) is
// 10:00 UTC.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		call         func(c *mas.Client) ([]fx.RateSet, error)
		sets         int
	}{
		{"latest", "latest.golden", func(c *mas.Client) ([]fx.RateSet, error) {
			return c.Latest(context.Background())
		}, 21},
		{"history", "history.golden", func(c *mas.Client) ([]fx.RateSet, error) {
			return c.History(context.Background(), providertest.Day("2026-03-02"), providertest.Day("2026-03-03"))
		}, 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, nil, [4]string{})
			sets, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			for _, s := range sets {
				if s.Provider != mas.Name || len(s.Rates) != 1 || s.Rates[0].Quote != "SGD" || len(s.PayloadHash) != 64 {
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
		{"html error page", "<html><body>The page cannot be displayed</body></html>"},
		{"empty", ""},
		{"monthly table", "MAS: Financial Database - Exchange Rates\n\nExchange Rates (Monthly)\n\nEnd of Period,,,S$ Per Unit of US Dollar\n2026,Mar,,1.2913\n"},
		{"bad cell", "Exchange Rates (Daily)\nEnd of Period,,,S$ Per Unit of US Dollar\n2026,Mar,02,1,2674\n2026,Mar,03,abc\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, []byte(tt.body), [4]string{})
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
	t.Run("form without view state", func(t *testing.T) {
		_, err := mas.Form(mas.Name, []byte("<html><form><input type=\"submit\" name=\"x$DownloadButton\" value=\"Download\"></form></html>"),
			providertest.Day("2026-03-01"), providertest.Day("2026-03-31"))
		var pe *provider.PermanentError
		if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
			t.Fatalf("err = %v, want an invalid-payload error", err)
		}
	})
}

// TestHistoryRequests checks that any range costs two requests (the form
// and its postback) and asks for the range's months.
func TestHistoryRequests(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		months   [4]string
		sets     int
	}{
		{"one day", "2026-03-18", "2026-03-18", [4]string{"2026", "3", "2026", "3"}, 21},
		{"whole month", "2026-03-01", "2026-03-31", [4]string{"2026", "3", "2026", "3"}, 22 * 21},
		{"across a year", "2025-12-30", "2026-03-02", [4]string{"2025", "12", "2026", "3"}, 21},
		{"a weekend", "2026-03-07", "2026-03-08", [4]string{"2026", "3", "2026", "3"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, nil, tt.months)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			if got := n.Load(); got != 2 {
				t.Fatalf("requests = %d, want 2", got)
			}
		})
	}
}
