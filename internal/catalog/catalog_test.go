package catalog_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

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
