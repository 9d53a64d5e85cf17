package cbn_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/cbn"
	"ces/internal/provider/providertest"
)

var _ provider.Source = (*cbn.Client)(nil)

const fixturePath = "../../../testdata/cbn/GetAllExchangeRates.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	return providertest.ReadFile(t, fixturePath)
}

// serve answers GetAllExchangeRates with payload and counts the requests.
func serve(t *testing.T, payload []byte) (*cbn.Client, *atomic.Int32) {
	t.Helper()
	srv, n := providertest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/GetAllExchangeRates" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	})
	return cbn.NewClient(srv.URL+"/api/", srv.Client()), n
}

// find returns the set of base on date.
func find(t *testing.T, sets []fx.RateSet, base, day string) fx.RateSet {
	t.Helper()
	for _, s := range sets {
		if s.Base == base && s.AsOf.Format(time.DateOnly) == day {
			return s
		}
	}
	t.Fatalf("no %s set on %s", base, day)
	return fx.RateSet{}
}

func TestParseRecording(t *testing.T) {
	sets, err := cbn.Parse(cbn.Name, fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	// 6 dates × 13 names, WAUA skipped: 6 × 12 sets.
	if len(sets) != 72 {
		t.Fatalf("sets = %d, want 72", len(sets))
	}
	// Newest first, then by base.
	for i := 1; i < len(sets); i++ {
		a, b := sets[i-1], sets[i]
		if a.AsOf.Before(b.AsOf) || (a.AsOf.Equal(b.AsOf) && a.Base >= b.Base) {
			t.Fatalf("sets %d and %d out of order: %s %s, %s %s", i-1, i, a.AsOf, a.Base, b.AsOf, b.Base)
		}
	}
	skipped := 0
	for _, s := range sets {
		if s.Provider != "cbn" || len(s.Rates) != 1 || s.Rates[0].Quote != "NGN" || len(s.PayloadHash) != 64 {
			t.Fatalf("set %+v", s)
		}
		if s.AsOf.Hour() != 16 || s.AsOf.Location() != time.UTC {
			t.Fatalf("as_of %s, want 16:00 UTC", s.AsOf)
		}
		skipped += len(s.Skipped)
	}
	if skipped != 6 {
		t.Fatalf("skipped names = %d, want 6 (WAUA once per date)", skipped)
	}

	tests := []struct {
		base, day, want string
	}{
		{"USD", "2026-05-21", "1371.8079"},
		{"USD", "2026-05-14", "1370.3862"},
		{"EUR", "2026-05-21", "1590.1997"},
		{"EUR", "2026-05-14", "1602.3926"},
		{"GBP", "2026-05-21", "1839.5944"},
		{"XOF", "2026-05-21", "2.4200"}, // trailing zeros kept
		{"XOF", "2026-05-20", "2.4229"},
		{"JPY", "2026-05-15", "8.6371"},
		{"CNY", "2026-05-21", "201.5942"},
		{"DKK", "2026-05-21", "212.7461"},
		{"SAR", "2026-05-21", "365.5425"},
		{"ZAR", "2026-05-21", "82.9178"},
		{"XDR", "2026-05-21", "1884.0410"},
		{"CHF", "2026-05-21", "1737.5654"},
		{"AED", "2026-05-21", "373.4538"},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.day, func(t *testing.T) {
			s := find(t, sets, tt.base, tt.day)
			if got := fx.Exact(s.Rates[0].Value); got != tt.want {
				t.Fatalf("central = %s, want %s (exact digits)", got, tt.want)
			}
			// 17:00 in Lagos (UTC+1) is 16:00 UTC.
			if want := providertest.Day(tt.day).Add(16 * time.Hour); !s.AsOf.Equal(want) {
				t.Fatalf("as_of = %s, want %s", s.AsOf, want)
			}
		})
	}

	first := find(t, sets, "AED", "2026-05-21") // AED sorts first on every date
	if strings.Join(first.Skipped, ",") != "WAUA" {
		t.Fatalf("skipped on the first set = %v, want [WAUA]", first.Skipped)
	}
}

// TestNameTable checks that every name in the recording maps to the right
// ISO code or is deliberately skipped, and that spelling variants match.
func TestNameTable(t *testing.T) {
	var rows []struct {
		Currency string `json:"currency"`
	}
	if err := json.Unmarshal(fixture(t), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"US DOLLAR": "USD", "POUNDS STERLING": "GBP", "EURO": "EUR", "SWISS FRANC": "CHF",
		"YEN": "JPY", "YUAN/RENMINBI": "CNY", "CFA": "XOF", "SDR": "XDR", "RIYAL": "SAR",
		"UAE DIRHAM": "AED", "DANISH KRONA": "DKK", "SOUTH AFRICAN RAND": "ZAR",
		"WAUA": "", // West African Unit of Account: not an ISO currency
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Currency] = true
	}
	for name := range seen {
		if _, ok := want[name]; !ok {
			t.Errorf("the recording's name %q is not covered by this test", name)
		}
	}
	variants := map[string]string{
		"CFA FRANC": "XOF", "cfa franc bceao": "XOF", "DANISH KRONE": "DKK", "US DOLLARS": "USD",
		"  us dollar ": "USD", "U.S. Dollar": "USD", "Yuan / Renminbi": "CNY", "POUND STERLING": "GBP",
		"Japanese Yen": "JPY", "SAUDI RIYAL": "SAR", "Special Drawing Rights": "XDR",
		"BITCOIN": "", "NAIRA": "", "": "",
	}
	for name, code := range variants {
		want[name] = code
	}
	for name, code := range want {
		t.Run(name, func(t *testing.T) {
			got, ok := cbn.Code(name)
			if code == "" {
				if ok {
					t.Fatalf("Code(%q) = %s, want skipped", name, got)
				}
				return
			}
			if !ok || got != code {
				t.Fatalf("Code(%q) = %q, %v; want %s", name, got, ok, code)
			}
		})
	}
}

// TestPegsConfirmTheTable checks the table against known pegs: if RIYAL or
// CFA meant another currency, the cross rates would be off.
func TestPegsConfirmTheTable(t *testing.T) {
	sets, err := cbn.Parse(cbn.Name, fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, num, den string
		lo, hi         string // expected num/den
	}{
		{"SAR pegged to USD at 3.75", "USD", "SAR", "3.74", "3.76"},
		{"AED pegged to USD at 3.6725", "USD", "AED", "3.66", "3.68"},
		{"XOF pegged to EUR at 655.957", "EUR", "XOF", "650", "662"},
		{"DKK held near 7.46 per EUR", "EUR", "DKK", "7.40", "7.52"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			num := find(t, sets, tt.num, "2026-05-21").Rates[0].Value
			den := find(t, sets, tt.den, "2026-05-21").Rates[0].Value
			r := fx.DivideRates(num, den)
			if r.LessThan(decimal.RequireFromString(tt.lo)) || r.GreaterThan(decimal.RequireFromString(tt.hi)) {
				t.Fatalf("%s/%s = %s, want within [%s, %s]", tt.num, tt.den, r, tt.lo, tt.hi)
			}
		})
	}
}

func TestParseBroken(t *testing.T) {
	const ok = `{"id":1,"currency":"US DOLLAR","ratedate":"2026-05-21","buyingrate":"1371.3079","centralrate":"1371.8079","sellingrate":"1372.3079"}`
	tests := []struct {
		name    string
		payload string
	}{
		{"empty array", `[]`},
		{"null", `null`},
		{"object", `{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1371.8079"}`},
		{"html error page", `<html><body>Service Unavailable</body></html>`},
		{"truncated", `[` + ok + `,{"id":2,"currency":"EURO"`},
		{"bad date", `[{"currency":"US DOLLAR","ratedate":"21/05/2026","centralrate":"1371.8079"}]`},
		{"missing date", `[{"currency":"US DOLLAR","centralrate":"1371.8079"}]`},
		{"text central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"n/a"}]`},
		{"empty central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":""}]`},
		{"null central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":null}]`},
		{"missing central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","buyingrate":"1371.3079"}]`},
		{"boolean central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":true}]`},
		{"zero central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"0.0000"}]`},
		{"negative central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"-1371.8079"}]`},
		{"NaN central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"NaN"}]`},
		{"absurd central", `[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1e20"}]`},
		{"no currency name", `[{"currency":" ","ratedate":"2026-05-21","centralrate":"1371.8079"}]`},
		{"conflicting duplicate", `[` + ok + `,{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1371.9000"}]`},
		{"conflicting duplicate via a variant", `[` + ok + `,{"currency":"US Dollars","ratedate":"2026-05-21","centralrate":"1371.9000"}]`},
		{"only unknown names", `[{"currency":"WAUA","ratedate":"2026-05-21","centralrate":"1876.6602"}]`},
		{"a date with only unknown names", `[` + ok + `,{"currency":"WAUA","ratedate":"2026-05-20","centralrate":"1876.6607"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cbn.Parse(cbn.Name, []byte(tt.payload))
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
			if !strings.HasPrefix(err.Error(), "provider cbn: ") {
				t.Fatalf("error %q lacks the provider prefix", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		sets    int
		usd     string
		skipped []string
	}{
		{"identical duplicate ignored",
			`[{"id":1,"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1371.8079"},{"id":1,"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1371.8079"}]`,
			1, "1371.8079", nil},
		{"central as a JSON number keeps its digits",
			`[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":1371.80790}]`,
			1, "1371.80790", nil},
		{"padding and case",
			`[{"currency":" us dollar ","ratedate":" 2026-05-21 ","centralrate":" 1371.8079 "}]`,
			1, "1371.8079", nil},
		{"unknown names recorded as written",
			`[{"currency":"US DOLLAR","ratedate":"2026-05-21","centralrate":"1371.8079"},{"currency":"WAUA","ratedate":"2026-05-21","centralrate":"1876.6602"},{"currency":"Naira","ratedate":"2026-05-21","centralrate":"1"}]`,
			1, "1371.8079", []string{"Naira", "WAUA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := cbn.Parse(cbn.Name, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != tt.sets {
				t.Fatalf("sets = %d, want %d", len(sets), tt.sets)
			}
			usd := find(t, sets, "USD", "2026-05-21")
			if got := fx.Exact(usd.Rates[0].Value); got != tt.usd {
				t.Fatalf("USD = %s, want %s", got, tt.usd)
			}
			if strings.Join(usd.Skipped, ",") != strings.Join(tt.skipped, ",") {
				t.Fatalf("skipped = %v, want %v", usd.Skipped, tt.skipped)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	c, n := serve(t, fixture(t))
	sets, err := c.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 12 || n.Load() != 1 {
		t.Fatalf("sets = %d after %d requests, want 12 after 1", len(sets), n.Load())
	}
	for _, s := range sets {
		if s.AsOf.Format(time.DateOnly) != "2026-05-21" {
			t.Fatalf("latest holds %s of %s", s.Base, s.AsOf)
		}
	}
	if got := fx.Exact(find(t, sets, "USD", "2026-05-21").Rates[0].Value); got != "1371.8079" {
		t.Fatalf("USD = %s", got)
	}
}

func TestHistory(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dates    []string
		wantType string
	}{
		{"the whole recording", "2026-05-01", "2026-05-31", []string{"2026-05-14", "2026-05-15", "2026-05-18", "2026-05-19", "2026-05-20", "2026-05-21"}, ""},
		{"bounds inclusive", "2026-05-15", "2026-05-18", []string{"2026-05-15", "2026-05-18"}, ""},
		{"one day", "2026-05-21", "2026-05-21", []string{"2026-05-21"}, ""},
		{"a business day alone", "2026-05-19", "2026-05-19", []string{"2026-05-19"}, ""},
		{"a sunday alone is empty, no carry-forward", "2026-05-17", "2026-05-17", nil, ""},
		{"a day after the recording is empty", "2026-06-01", "2026-06-01", nil, ""},
		{"the day before the recording is empty", "2026-05-13", "2026-05-13", nil, ""},
		{"weekend only, no carry-forward", "2026-05-16", "2026-05-17", nil, ""},
		{"before the recording", "2026-01-01", "2026-05-13", nil, ""},
		{"reversed", "2026-05-21", "2026-05-14", nil, provider.TypeRequestRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, fixture(t))
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if tt.wantType != "" {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != tt.wantType {
					t.Fatalf("err = %v, want %s", err, tt.wantType)
				}
				if n.Load() != 0 {
					t.Fatalf("%d requests for a rejected range", n.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != 1 {
				t.Fatalf("requests = %d, want exactly 1", n.Load())
			}
			if len(sets) != 12*len(tt.dates) {
				t.Fatalf("sets = %d, want %d", len(sets), 12*len(tt.dates))
			}
			var dates []string
			for i, s := range sets {
				d := s.AsOf.Format(time.DateOnly)
				if len(dates) == 0 || dates[len(dates)-1] != d {
					dates = append(dates, d)
				}
				if i > 0 {
					p := sets[i-1]
					if p.AsOf.After(s.AsOf) || (p.AsOf.Equal(s.AsOf) && p.Base >= s.Base) {
						t.Fatalf("not oldest first then by base at %d: %s %s, %s %s", i, p.AsOf, p.Base, s.AsOf, s.Base)
					}
				}
			}
			if strings.Join(dates, ",") != strings.Join(tt.dates, ",") {
				t.Fatalf("dates = %v, want %v", dates, tt.dates)
			}
		})
	}
}

func TestWrongBaseURLIsRejected(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := cbn.NewClient(srv.URL, srv.Client()).Latest(context.Background())
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeRequestRejected {
		t.Fatalf("err = %v, want %s", err, provider.TypeRequestRejected)
	}
}

// TestFileBaseURL is the offline demo: FX_CBN_BASE_URL=file:///dir reads
// dir/GetAllExchangeRates.
func TestFileBaseURL(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "GetAllExchangeRates"), fixture(t), 0o644); err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: dir}).String()
	sets, err := cbn.NewClient(u, nil).History(context.Background(), providertest.Day("2026-05-14"), providertest.Day("2026-05-21"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 72 {
		t.Fatalf("sets = %d, want 72", len(sets))
	}
}
