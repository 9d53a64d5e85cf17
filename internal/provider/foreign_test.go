package provider_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

func TestForeignSets(t *testing.T) {
	asOf := time.Date(2026, 3, 2, 11, 15, 0, 0, time.UTC)
	tests := []struct {
		name    string
		rates   []provider.Foreign
		want    string // "BASE QUOTE value;..." in order, then "skipped:..."
		invalid bool
	}{
		{"per unit, digits kept", []provider.Foreign{{Code: "usd", Value: "3.6050"}, {Code: "EUR", Value: "4.2304", Units: 1}},
			"EUR PLN 4.2304;USD PLN 3.6050;skipped:", false},
		{"per 100 is an exact shift", []provider.Foreign{{Code: "JPY", Value: "248.17", Units: 100}, {Code: "IDR", Value: "0.0260", Units: 100}},
			"IDR PLN 0.000260;JPY PLN 2.4817;skipped:", false},
		{"per 1000", []provider.Foreign{{Code: "KRW", Value: "2.5", Units: 1000}}, "KRW PLN 0.0025;skipped:", false},
		{"non-ISO and flagged codes skipped, once", []provider.Foreign{{Code: "USD", Value: "3.6"}, {Code: "WAUA", Value: "5"}, {Code: "XAU", Value: "621.3", Skip: true}},
			"USD PLN 3.6;skipped:WAUA,XAU", false},
		{"the quote itself dropped", []provider.Foreign{{Code: "USD", Value: "3.6"}, {Code: "PLN", Value: "1"}}, "USD PLN 3.6;skipped:", false},
		{"identical repeat ignored", []provider.Foreign{{Code: "USD", Value: "3.6"}, {Code: "USD", Value: "3.6"}}, "USD PLN 3.6;skipped:", false},
		{"conflicting repeat", []provider.Foreign{{Code: "USD", Value: "3.6"}, {Code: "USD", Value: "3.7"}}, "", true},
		{"units not a power of ten", []provider.Foreign{{Code: "USD", Value: "3.6", Units: 3}}, "", true},
		{"negative units", []provider.Foreign{{Code: "USD", Value: "3.6", Units: -10}}, "", true},
		{"empty code", []provider.Foreign{{Code: " ", Value: "3.6"}}, "", true},
		{"text value", []provider.Foreign{{Code: "USD", Value: "n/a"}}, "", true},
		{"zero value", []provider.Foreign{{Code: "USD", Value: "0"}}, "", true},
		{"nothing usable", []provider.Foreign{{Code: "WAUA", Value: "5"}}, "", true},
		{"nothing at all", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := provider.ForeignSets("test", "PLN", asOf, []byte("payload"), tt.rates)
			if tt.invalid {
				var pe *provider.PermanentError
				if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload || sets != nil {
					t.Fatalf("sets %v, err %v; want %s and no sets", sets, err, provider.TypeInvalidPayload)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var skipped []string
			for _, s := range sets {
				if len(s.Rates) != 1 || !s.AsOf.Equal(asOf) || s.Provider != "test" {
					t.Fatalf("set %+v", s)
				}
				got = append(got, s.Base+" "+s.Rates[0].Quote+" "+fx.Exact(s.Rates[0].Value))
				skipped = append(skipped, s.Skipped...)
			}
			if g := strings.Join(got, ";") + ";skipped:" + strings.Join(skipped, ","); g != tt.want {
				t.Fatalf("got %s, want %s", g, tt.want)
			}
		})
	}
}
