package oxr_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/oxr"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/oxr/latest-2022-09-01.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
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

func TestFetchLatest(t *testing.T) {
	var gotPath, gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotKey = r.URL.Path, r.URL.Query().Get("app_id")
		w.Write(fixture(t))
	}))
	defer srv.Close()
	set, err := oxr.NewClient(srv.URL, "k-123", srv.Client()).Fetch(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/latest.json" || gotKey != "k-123" {
		t.Fatalf("requested %s with app_id %q", gotPath, gotKey)
	}
	if set.Base != "USD" || set.Provider != "openexchangerates" {
		t.Fatalf("base/provider = %s/%s", set.Base, set.Provider)
	}
	if want := time.Unix(1662001200, 0).UTC(); !set.AsOf.Equal(want) {
		t.Fatalf("as_of = %s, want %s", set.AsOf, want)
	}
	// 169 codes: 5 are not ISO 4217 and USD quotes itself.
	if len(set.Rates) != 163 {
		t.Fatalf("rates = %d, want 163", len(set.Rates))
	}
	if got := strings.Join(set.Skipped, ","); got != "BTC,CNH,GGP,IMP,JEP" {
		t.Fatalf("skipped = %s", got)
	}
	for code, want := range map[string]string{"NGN": "418.065024", "EUR": "0.997656", "JPY": "139.48916667", "XAU": "0.00058663", "KWD": "0.30825"} {
		if got := rateOf(t, set, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

func TestFetchHistoricalPath(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		w.Write(fixture(t))
	}))
	defer srv.Close()
	_, err := oxr.NewClient(srv.URL, "k", srv.Client()).Fetch(context.Background(), time.Date(2022, 9, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/historical/2022-09-01.json" {
		t.Fatalf("path = %s", gotPath)
	}
}

func TestFetchBadKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		w.Write([]byte(`{"error":true,"status":401,"message":"invalid_app_id","description":"Invalid App ID provided."}`))
	}))
	defer srv.Close()
	_, err := oxr.NewClient(srv.URL, "bad-key-value", srv.Client()).Fetch(context.Background(), time.Time{})
	var pe *provider.PermanentError
	if !errors.As(err, &pe) || pe.Type != provider.TypeAuthFailed {
		t.Fatalf("err = %v, want %s", err, provider.TypeAuthFailed)
	}
	if strings.Contains(err.Error(), "bad-key-value") {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"not json", `<xml/>`},
		{"truncated", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0.99`},
		{"missing base", `{"timestamp":1662001200,"rates":{"EUR":0.99618}}`},
		{"unknown base", `{"timestamp":1662001200,"base":"XYZ","rates":{"EUR":0.99618}}`},
		{"missing timestamp", `{"base":"USD","rates":{"EUR":0.99618}}`},
		{"no rates", `{"timestamp":1662001200,"base":"USD"}`},
		{"rates not an object", `{"timestamp":1662001200,"base":"USD","rates":[1,2]}`},
		{"rate as string", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":"0.99"}}`},
		{"null rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":null}}`},
		{"zero rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0}}`},
		{"negative rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":-0.99}}`},
		{"absurd rate", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":1e300}}`},
		{"duplicate code", `{"timestamp":1662001200,"base":"USD","rates":{"EUR":0.99,"EUR":0.98}}`},
		{"api error body", `{"error":true,"status":429,"message":"not_allowed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oxr.Parse("openexchangerates", []byte(tt.payload))
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want %s", err, provider.TypeInvalidPayload)
			}
		})
	}
}

func TestExponentNotationIsExact(t *testing.T) {
	set, err := oxr.Parse("openexchangerates", []byte(`{"timestamp":1662001200,"base":"USD","rates":{"XAU":5.8275e-4}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rateOf(t, set, "XAU"); got != "0.00058275" {
		t.Fatalf("XAU = %s", got)
	}
}
