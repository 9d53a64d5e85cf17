package peg_test

import (
	"context"
	"errors"
	"testing"

	"ces/internal/catalog"
	"ces/internal/provider"
	"ces/internal/provider/peg"
	"ces/internal/provider/providertest"
)

// TestLatest pins what the catalogue's pegs become: one set per anchor and
// day the pegs took effect, each value the authority's digits.
func TestLatest(t *testing.T) {
	sets, err := peg.NewClient("", nil).Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	providertest.Golden(t, "latest.golden", providertest.Render(sets))
	n := 0
	for _, s := range sets {
		if s.Provider != peg.Name || s.PayloadHash == "" {
			t.Errorf("set %+v: want provider %s and a payload hash", s, peg.Name)
		}
		n += len(s.Rates)
	}
	if want := len(catalog.Pegs()) - 3; n != want {
		t.Errorf("%d pegs stored, want %d (every peg but GGP, IMP and JEP)", n, want)
	}
}

func TestHistory(t *testing.T) {
	c := peg.NewClient("", nil)
	tests := []struct {
		name, from, to string
		want           string
	}{
		{"the day the CFA francs took effect", "1999-01-01", "1999-01-01", "1999-01-01T00:00:00Z EUR CVE 110.265\n1999-01-01T00:00:00Z EUR XAF 655.957\n1999-01-01T00:00:00Z EUR XOF 655.957\n"},
		{"a range holding none", "2020-01-01", "2026-12-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sets, err := c.History(context.Background(), providertest.Day(tt.from), providertest.Day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(providertest.Render(sets)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := c.History(context.Background(), providertest.Day("2020-01-02"), providertest.Day("2020-01-01")); err == nil {
		t.Error("a reversed range was accepted")
	}
}

func TestRefuses(t *testing.T) {
	tests := []struct {
		name string
		pegs []catalog.Peg
	}{
		{"a malformed date", []catalog.Peg{{Quote: "XOF", Base: "EUR", Rate: "655.957", Since: "1999-13-01"}}},
		{"a rate that is no decimal", []catalog.Peg{{Quote: "XOF", Base: "EUR", Rate: "6,55957", Since: "1999-01-01"}}},
		{"a rate that is not positive", []catalog.Peg{{Quote: "XOF", Base: "EUR", Rate: "0", Since: "1999-01-01"}}},
		{"only codes that are not ISO 4217", []catalog.Peg{{Quote: "JEP", Base: "GBP", Rate: "1", Since: "1834-01-01"}}},
		{"an anchor that is not ISO 4217", []catalog.Peg{{Quote: "XOF", Base: "FRX", Rate: "1", Since: "1999-01-01"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := peg.WithPegs(tt.pegs).Latest(context.Background())
			var pe *provider.PermanentError
			if !errors.As(err, &pe) || pe.Type != provider.TypeInvalidPayload {
				t.Fatalf("err = %v, want an invalid payload", err)
			}
		})
	}
}
