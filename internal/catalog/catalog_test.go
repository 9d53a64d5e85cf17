package catalog_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/catalog"
	"ces/internal/fx"
)

func TestEntries(t *testing.T) {
	key := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	cron := regexp.MustCompile(`^(\S+ ){4}\S+$`)
	for _, p := range catalog.All() {
		t.Run(p.Key, func(t *testing.T) {
			if !key.MatchString(p.Key) {
				t.Errorf("key %q is not a lower-case word", p.Key)
			}
			if p.Key == catalog.PegProvider {
				// Each peg has its own anchor and source (TestPegs).
				return
			}
			if p.Name == "" || p.Quoting == "" || p.DataURL == "" {
				t.Errorf("name, quoting and data URL are required: %+v", p)
			}
			codes := []string{p.Pivot}
			if p.Issues != "" {
				codes = append(codes, p.Issues)
			}
			for _, code := range codes {
				if c, err := fx.ParseCurrency(code); err != nil || c.Withdrawn {
					t.Errorf("%q is not an active ISO 4217 currency (%v)", code, err)
				}
			}
			if p.Issues != "" && p.Issues != p.Pivot {
				t.Errorf("issues %s but quotes against %s: an issuer quotes against its own currency", p.Issues, p.Pivot)
			}
			if _, err := time.Parse(time.DateOnly, p.CoverageStart); err != nil {
				t.Errorf("coverage start %q: %v", p.CoverageStart, err)
			}
			if p.Cadence != catalog.Hourly && len(p.Schedule) == 0 {
				t.Errorf("a %s publisher needs a polling schedule", p.Cadence)
			}
			for _, s := range p.Schedule {
				if !cron.MatchString(s) {
					t.Errorf("schedule %q is not a 5-field cron expression", s)
				}
			}
			got, ok := catalog.Lookup(p.Key)
			if !ok || got.Key != p.Key {
				t.Errorf("Lookup(%q) = %v, %v", p.Key, got.Key, ok)
			}
		})
	}
	if keys := catalog.Keys(); !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Errorf("keys are not sorted and unique: %v", keys)
	}
}

func TestPegs(t *testing.T) {
	notISO := []string{"GGP", "IMP", "JEP"}
	var codes []string
	for _, p := range catalog.Pegs() {
		t.Run(p.Quote, func(t *testing.T) {
			if c, err := fx.ParseCurrency(p.Quote); err != nil && !slices.Contains(notISO, p.Quote) {
				t.Errorf("pegged %s: %v", p.Quote, err)
			} else if err == nil && slices.Contains(notISO, p.Quote) {
				t.Errorf("%s is now in CES's ISO 4217 table (%s): drop it from notISO", p.Quote, c.Name)
			}
			if c, err := fx.ParseCurrency(p.Base); err != nil || c.Withdrawn {
				t.Errorf("anchor %q is not an active currency (%v)", p.Base, err)
			}
			if v, err := decimal.NewFromString(p.Rate); err != nil || !v.IsPositive() || strings.ContainsAny(p.Rate, "eE") {
				t.Errorf("rate %q is not a positive decimal", p.Rate)
			}
			if _, err := time.Parse(time.DateOnly, p.Since); err != nil {
				t.Errorf("since %q: %v", p.Since, err)
			}
			if p.Authority == "" || !strings.HasPrefix(p.Source, "https://") {
				t.Errorf("authority and source are required: %+v", p)
			}
			if got, ok := catalog.PegOf(p.Quote); !ok || got != p {
				t.Errorf("PegOf(%s) = %+v, %v", p.Quote, got, ok)
			}
		})
		codes = append(codes, p.Quote)
	}
	if !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
		t.Errorf("pegs are not sorted and unique: %v", codes)
	}
	if p, ok := catalog.Lookup(catalog.PegProvider); !ok || p.StaleAfter() < 200*365*24*time.Hour {
		t.Errorf("the pegs' publisher %+v must never be stale", p)
	}
}

func TestKeyless(t *testing.T) {
	keyless := catalog.KeylessKeys()
	if slices.Contains(keyless, "openexchangerates") {
		t.Error("openexchangerates needs FX_API_KEY: it is not keyless")
	}
	for _, k := range []string{"ecb", "cbn", "boc"} {
		if !slices.Contains(keyless, k) {
			t.Errorf("%s is keyless but not listed: %v", k, keyless)
		}
	}
}

func TestStaleAfter(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		cadence catalog.Cadence
		want    time.Duration
	}{
		{catalog.Hourly, 3 * time.Hour},
		// Friday's rate is current until Monday's, and a holiday Monday.
		{catalog.Daily, 4*day + time.Hour},
		{catalog.Weekly, 9*day + time.Hour},
		{catalog.Monthly, 38*day + time.Hour},
	}
	for _, tt := range tests {
		t.Run(string(tt.cadence), func(t *testing.T) {
			if got := (catalog.Publisher{Cadence: tt.cadence}).StaleAfter(); got != tt.want {
				t.Errorf("StaleAfter = %s, want %s", got, tt.want)
			}
		})
	}
}
