package ecb_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/provider/providertest"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	return providertest.ReadFile(t, "../../../testdata/ecb/"+name)
}

// serve answers every eurofxref file name with the given payloads.
func serve(t *testing.T, files map[string][]byte) *ecb.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return ecb.NewClient(srv.URL, srv.Client())
}

func rateOf(t *testing.T, set fx.RateSet, code string) string {
	t.Helper()
	for _, r := range set.Rates {
		if r.Quote == code {
			return fx.Exact(r.Value)
		}
	}
	t.Fatalf("no %s in set", code)
	return ""
}

func TestParseHistory90d(t *testing.T) {
	sets, err := ecb.Parse("ecb", fixture(t, "eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 64 {
		t.Fatalf("days = %d, want 64", len(sets))
	}
	newest, oldest := sets[0], sets[len(sets)-1]
	// 16:00 CET in winter is 15:00 UTC.
	if want := time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC); !newest.AsOf.Equal(want) {
		t.Fatalf("newest as_of = %s, want %s", newest.AsOf, want)
	}
	if want := time.Date(2016, 12, 5, 15, 0, 0, 0, time.UTC); !oldest.AsOf.Equal(want) {
		t.Fatalf("oldest as_of = %s, want %s", oldest.AsOf, want)
	}
	if len(newest.Rates) != 31 {
		t.Fatalf("rates on newest day = %d, want 31", len(newest.Rates))
	}
	for code, want := range map[string]string{"USD": "1.0565", "JPY": "120.83", "GBP": "0.86355"} {
		if got := rateOf(t, newest, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

func TestParseBroken(t *testing.T) {
	const head = `<?xml version="1.0"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube>`
	const tail = `</Cube></gesmes:Envelope>`
	tests := []struct {
		name    string
		payload string
	}{
		{"not xml", `{"rates":{}}`},
		{"truncated", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="1.0565"/>`},
		{"no day", head + tail},
		{"bad date", head + `<Cube time="03/03/2017"><Cube currency="USD" rate="1.0565"/></Cube>` + tail},
		{"zero rate", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="0"/></Cube>` + tail},
		{"negative rate", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="-1.05"/></Cube>` + tail},
		{"NaN rate", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="NaN"/></Cube>` + tail},
		{"absurd rate", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="1e20"/></Cube>` + tail},
		{"text rate", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="n/a"/></Cube>` + tail},
		{"duplicate currency", head + `<Cube time="2017-03-03"><Cube currency="USD" rate="1.05"/><Cube currency="USD" rate="1.06"/></Cube>` + tail},
		{"only unknown codes", head + `<Cube time="2017-03-03"><Cube currency="BTC" rate="0.0001"/></Cube>` + tail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ecb.Parse("ecb", []byte(tt.payload))
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
		})
	}
}

func TestExactDigitsSurviveParsing(t *testing.T) {
	sets, err := ecb.Parse("ecb", fixture(t, "eurofxref-daily-2014-06-10.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sets[0].Rates {
		if r.Quote == "GBP" && !r.Value.Equal(decimal.RequireFromString("0.8075")) {
			t.Fatalf("GBP = %s", r.Value)
		}
	}
}

var _ provider.Source = (*ecb.Client)(nil)

// counting serves files like serve and counts the requests per file.
func counting(t *testing.T, files map[string][]byte, now time.Time) (*ecb.Client, map[string]int, func() int) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		got[name]++
		mu.Unlock()
		b, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c := ecb.NewClient(srv.URL, srv.Client())
	ecb.SetClock(c, func() time.Time { return now })
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, v := range got {
			n += v
		}
		return n
	}
	return c, got, total
}

func TestHistory(t *testing.T) {
	hist := fixture(t, "eurofxref-hist-90d-2017.xml")
	// The 2017 recording was published on 2017-03-03; the clock says so.
	now := time.Date(2017, 3, 3, 17, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to string
		file     string
		first    string
		last     string
		days     int
		wantType string
	}{
		{"recent range reads the 90-day file", "2017-01-02", "2017-01-09", "eurofxref-hist-90d.xml", "2017-01-02", "2017-01-09", 6, ""},
		{"a week, weekends absent", "2017-02-20", "2017-02-28", "eurofxref-hist-90d.xml", "2017-02-20", "2017-02-28", 7, ""},
		{"one day", "2017-03-03", "2017-03-03", "eurofxref-hist-90d.xml", "2017-03-03", "2017-03-03", 1, ""},
		{"weekend only", "2017-02-25", "2017-02-26", "eurofxref-hist-90d.xml", "", "", 0, ""},
		{"a saturday alone is empty, no carry-forward", "2017-03-04", "2017-03-04", "eurofxref-hist-90d.xml", "", "", 0, ""},
		{"a sunday alone is empty, no carry-forward", "2017-03-05", "2017-03-05", "eurofxref-hist-90d.xml", "", "", 0, ""},
		{"first day of the recording alone", "2016-12-05", "2016-12-05", "eurofxref-hist.xml", "2016-12-05", "2016-12-05", 1, ""},
		{"the day before the recording is empty", "2016-12-04", "2016-12-04", "eurofxref-hist.xml", "", "", 0, ""},
		{"to beyond the newest day", "2017-03-01", "2017-03-31", "eurofxref-hist-90d.xml", "2017-03-01", "2017-03-03", 3, ""},
		{"old range reads the full history", "2016-12-01", "2016-12-09", "eurofxref-hist.xml", "2016-12-05", "2016-12-09", 5, ""},
		{"85-day margin: 86 days back reads the full history", "2016-12-07", "2016-12-07", "eurofxref-hist.xml", "2016-12-07", "2016-12-07", 1, ""},
		{"the whole recording", "2016-01-01", "2017-12-31", "eurofxref-hist.xml", "2016-12-05", "2017-03-03", 64, ""},
		{"reversed range", "2017-03-03", "2017-03-01", "", "", "", 0, provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got, total := counting(t, map[string][]byte{"eurofxref-hist-90d.xml": hist, "eurofxref-hist.xml": hist}, now)
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if tt.wantType != "" {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType {
					t.Fatalf("err = %v, want %s", err, tt.wantType)
				}
				if total() != 0 {
					t.Fatalf("%d requests for a rejected range", total())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if total() != 1 || got[tt.file] != 1 {
				t.Fatalf("requests = %v, want exactly one of %s", got, tt.file)
			}
			if len(sets) != tt.days {
				t.Fatalf("days = %d, want %d", len(sets), tt.days)
			}
			for i := 1; i < len(sets); i++ {
				if !sets[i-1].AsOf.Before(sets[i].AsOf) {
					t.Fatalf("not oldest first at %d: %s then %s", i, sets[i-1].AsOf, sets[i].AsOf)
				}
			}
			if tt.days == 0 {
				return
			}
			if f, l := sets[0].AsOf.Format(time.DateOnly), sets[len(sets)-1].AsOf.Format(time.DateOnly); f != tt.first || l != tt.last {
				t.Fatalf("range = %s..%s, want %s..%s", f, l, tt.first, tt.last)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	c, got, total := counting(t, map[string][]byte{"eurofxref-daily.xml": fixture(t, "eurofxref-daily-2014-06-10.xml")}, time.Now())
	sets, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if total() != 1 || got["eurofxref-daily.xml"] != 1 {
		t.Fatalf("requests = %v", got)
	}
	if len(sets) != 1 {
		t.Fatalf("latest = %d sets, want 1", len(sets))
	}
	set := sets[0]
	if set.Provider != "ecb" || set.Base != "EUR" {
		t.Fatalf("provider/base = %s/%s", set.Provider, set.Base)
	}
	// 16:00 CEST on 2014-06-10 is 14:00 UTC.
	if want := time.Date(2014, 6, 10, 14, 0, 0, 0, time.UTC); !set.AsOf.Equal(want) {
		t.Fatalf("as_of = %s, want %s", set.AsOf, want)
	}
	if len(set.Rates) != 32 || len(set.Skipped) != 0 {
		t.Fatalf("rates = %d, skipped = %v; want 32 and none", len(set.Rates), set.Skipped)
	}
	for code, want := range map[string]string{"USD": "1.3547", "JPY": "138.63", "GBP": "0.80750", "LTL": "3.4528", "IDR": "15994.24"} {
		if got := rateOf(t, set, code); got != want {
			t.Errorf("%s = %s, want %s (exact digits)", code, got, want)
		}
	}
	if len(set.PayloadHash) != 64 {
		t.Errorf("payload hash %q", set.PayloadHash)
	}
}

// TestHistoryOldDayUsesHistoryFile asks for one day years ago: only the
// full history file reaches back that far, and it holds the day's set.
func TestHistoryOldDayUsesHistoryFile(t *testing.T) {
	c := serve(t, map[string][]byte{"eurofxref-hist.xml": fixture(t, "eurofxref-hist-90d-2017.xml")})
	day := time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC)
	sets, err := c.History(context.Background(), day, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 {
		t.Fatalf("sets = %d, want 1", len(sets))
	}
	if got := sets[0].AsOf.Format(time.DateOnly); got != "2017-01-02" {
		t.Fatalf("day = %s", got)
	}
}

// TestFileBaseURL is the offline demo: FX_ECB_BASE_URL=file:///dir reads
// the eurofxref files from dir.
func TestFileBaseURL(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"eurofxref-daily.xml": "eurofxref-daily-2014-06-10.xml", "eurofxref-hist.xml": "eurofxref-hist-90d-2017.xml"} {
		if err := os.WriteFile(filepath.Join(dir, name), fixture(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := ecb.NewClient((&url.URL{Scheme: "file", Path: dir}).String(), nil)
	latest, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := latest[0].AsOf.Format(time.DateOnly); got != "2014-06-10" {
		t.Fatalf("latest day = %s", got)
	}
	hist, err := c.History(context.Background(), time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2017, 1, 6, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 5 {
		t.Fatalf("history days = %d, want 5", len(hist))
	}
}
