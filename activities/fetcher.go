package activities

import (
	"ces/internal/config"
	"ces/internal/provider"
	"ces/internal/provider/cbn"
	"ces/internal/provider/ecb"
	"ces/internal/provider/file"
	"ces/internal/provider/oxr"
)

// NewSources returns the adapter of every configured provider, by name.
func NewSources(cfg config.Config) map[string]provider.Source {
	out := make(map[string]provider.Source, len(cfg.FXProviders))
	for _, name := range cfg.FXProviders {
		hc := provider.NewHTTPClient(cfg.FXHTTPTimeout)
		switch name {
		case config.ProviderECB:
			out[name] = ecb.NewClient(cfg.BaseURL(name), hc)
		case config.ProviderCBN:
			out[name] = cbn.NewClient(cfg.BaseURL(name), hc)
		case config.ProviderOpenExchangeRates:
			c := oxr.NewClient(cfg.BaseURL(name), cfg.FXAPIKey, hc)
			c.MaxInFlight = cfg.BackfillMaxInFlight
			out[name] = c
		case config.ProviderFile:
			out[name] = file.NewClient(cfg.FXFile)
		}
	}
	return out
}
