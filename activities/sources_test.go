package activities_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"ces/activities"
	"ces/internal/catalog"
	"ces/internal/config"
)

// TestEveryPublisherHasAnAdapter holds the catalogue, the adapter
// packages and NewSources together: each catalogue key builds an adapter
// of that name, and each adapter package is in the catalogue.
func TestEveryPublisherHasAnAdapter(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":    "postgres://127.0.0.1/ces",
		"REDIS_URL":       "redis://127.0.0.1:6379/0",
		"FX_PROVIDERS":    strings.Join(catalog.Keys(), ","),
		"FX_API_KEY":      "k",
		"FX_FRED_API_KEY": "k",
	}
	cfg, err := config.LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	sources := activities.NewSources(cfg)
	for _, key := range catalog.Keys() {
		t.Run(key, func(t *testing.T) {
			s, ok := sources[key]
			if !ok {
				t.Fatalf("the catalogue lists %s but NewSources builds no adapter for it", key)
			}
			if s.Name() != key {
				t.Errorf("adapter for %s calls itself %s", key, s.Name())
			}
		})
	}
	dirs, err := os.ReadDir("../internal/provider")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		name := d.Name()
		// file is the offline demo's reader, providertest the adapters'
		// test support: neither is a publisher.
		if !d.IsDir() || name == "file" || name == "testdata" || name == "providertest" {
			continue
		}
		if name == "oxr" {
			name = config.ProviderOpenExchangeRates
		}
		if !slices.Contains(catalog.Keys(), name) {
			t.Errorf("internal/provider/%s has no catalogue entry", d.Name())
		}
	}
}
