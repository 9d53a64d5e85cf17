package activities

import (
	"ces/internal/config"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/provider/file"
	"ces/internal/provider/oxr"
)

// NewFetcher returns the adapter of the configured provider.
func NewFetcher(cfg config.Config) Fetcher {
	switch cfg.FXProvider {
	case config.ProviderOpenExchangeRates:
		return oxr.NewClient(cfg.FXBaseURL, cfg.FXAPIKey, provider.NewHTTPClient())
	case config.ProviderFile:
		return file.NewClient(cfg.FXFile)
	default:
		return ecb.NewClient(cfg.FXBaseURL, provider.NewHTTPClient())
	}
}
