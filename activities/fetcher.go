package activities

import (
	"net/http"

	"ces/internal/config"
	"ces/internal/provider"
	"ces/internal/provider/banrep"
	"ces/internal/provider/bcb"
	"ces/internal/provider/bcra"
	"ces/internal/provider/bdi"
	"ces/internal/provider/bi"
	"ces/internal/provider/bnm"
	"ces/internal/provider/bnr"
	"ces/internal/provider/boc"
	"ces/internal/provider/boe"
	"ces/internal/provider/boi"
	"ces/internal/provider/cba"
	"ces/internal/provider/cbe"
	"ces/internal/provider/cbk"
	"ces/internal/provider/cbn"
	"ces/internal/provider/cbr"
	"ces/internal/provider/cbu"
	"ces/internal/provider/cnb"
	"ces/internal/provider/dnb"
	"ces/internal/provider/ecb"
	"ces/internal/provider/fbil"
	"ces/internal/provider/file"
	"ces/internal/provider/fred"
	"ces/internal/provider/imf"
	"ces/internal/provider/mas"
	"ces/internal/provider/mnb"
	"ces/internal/provider/nb"
	"ces/internal/provider/nbg"
	"ces/internal/provider/nbk"
	"ces/internal/provider/nbm"
	"ces/internal/provider/nbp"
	"ces/internal/provider/nbrb"
	"ces/internal/provider/nbt"
	"ces/internal/provider/nbu"
	"ces/internal/provider/oxr"
	"ces/internal/provider/rb"
	"ces/internal/provider/rba"
	"ces/internal/provider/sarb"
	"ces/internal/provider/sbi"
	"ces/internal/provider/sbp"
)

// keyless builds the adapter of a publisher that needs only its endpoint.
type keyless func(baseURL string, hc *http.Client) provider.Source

// keylessAdapters are the catalogue's keyless publishers, by key: one
// line per adapter package.
var keylessAdapters = map[string]keyless{
	ecb.Name:    func(u string, hc *http.Client) provider.Source { return ecb.NewClient(u, hc) },
	cbn.Name:    func(u string, hc *http.Client) provider.Source { return cbn.NewClient(u, hc) },
	boc.Name:    func(u string, hc *http.Client) provider.Source { return boc.NewClient(u, hc) },
	boe.Name:    func(u string, hc *http.Client) provider.Source { return boe.NewClient(u, hc) },
	rba.Name:    func(u string, hc *http.Client) provider.Source { return rba.NewClient(u, hc) },
	nb.Name:     func(u string, hc *http.Client) provider.Source { return nb.NewClient(u, hc) },
	rb.Name:     func(u string, hc *http.Client) provider.Source { return rb.NewClient(u, hc) },
	dnb.Name:    func(u string, hc *http.Client) provider.Source { return dnb.NewClient(u, hc) },
	cnb.Name:    func(u string, hc *http.Client) provider.Source { return cnb.NewClient(u, hc) },
	nbu.Name:    func(u string, hc *http.Client) provider.Source { return nbu.NewClient(u, hc) },
	nbk.Name:    func(u string, hc *http.Client) provider.Source { return nbk.NewClient(u, hc) },
	nbg.Name:    func(u string, hc *http.Client) provider.Source { return nbg.NewClient(u, hc) },
	bcra.Name:   func(u string, hc *http.Client) provider.Source { return bcra.NewClient(u, hc) },
	imf.Name:    func(u string, hc *http.Client) provider.Source { return imf.NewClient(u, hc) },
	bdi.Name:    func(u string, hc *http.Client) provider.Source { return bdi.NewClient(u, hc) },
	nbp.Name:    func(u string, hc *http.Client) provider.Source { return nbp.NewClient(u, hc) },
	mnb.Name:    func(u string, hc *http.Client) provider.Source { return mnb.NewClient(u, hc) },
	bnr.Name:    func(u string, hc *http.Client) provider.Source { return bnr.NewClient(u, hc) },
	boi.Name:    func(u string, hc *http.Client) provider.Source { return boi.NewClient(u, hc) },
	cbe.Name:    func(u string, hc *http.Client) provider.Source { return cbe.NewClient(u, hc) },
	cbk.Name:    func(u string, hc *http.Client) provider.Source { return cbk.NewClient(u, hc) },
	sarb.Name:   func(u string, hc *http.Client) provider.Source { return sarb.NewClient(u, hc) },
	bcb.Name:    func(u string, hc *http.Client) provider.Source { return bcb.NewClient(u, hc) },
	banrep.Name: func(u string, hc *http.Client) provider.Source { return banrep.NewClient(u, hc) },
	fbil.Name:   func(u string, hc *http.Client) provider.Source { return fbil.NewClient(u, hc) },
	bnm.Name:    func(u string, hc *http.Client) provider.Source { return bnm.NewClient(u, hc) },
	mas.Name:    func(u string, hc *http.Client) provider.Source { return mas.NewClient(u, hc) },
	bi.Name:     func(u string, hc *http.Client) provider.Source { return bi.NewClient(u, hc) },
	sbp.Name:    func(u string, hc *http.Client) provider.Source { return sbp.NewClient(u, hc) },
	cbr.Name:    func(u string, hc *http.Client) provider.Source { return cbr.NewClient(u, hc) },
	sbi.Name:    func(u string, hc *http.Client) provider.Source { return sbi.NewClient(u, hc) },
	nbrb.Name:   func(u string, hc *http.Client) provider.Source { return nbrb.NewClient(u, hc) },
	cba.Name:    func(u string, hc *http.Client) provider.Source { return cba.NewClient(u, hc) },
	nbm.Name:    func(u string, hc *http.Client) provider.Source { return nbm.NewClient(u, hc) },
	cbu.Name:    func(u string, hc *http.Client) provider.Source { return cbu.NewClient(u, hc) },
	nbt.Name:    func(u string, hc *http.Client) provider.Source { return nbt.NewClient(u, hc) },
}

// NewSources returns the adapter of every configured provider, by name.
func NewSources(cfg config.Config) map[string]provider.Source {
	out := make(map[string]provider.Source, len(cfg.FXProviders))
	for _, name := range cfg.FXProviders {
		hc := provider.NewHTTPClient(cfg.FXHTTPTimeout)
		switch name {
		case config.ProviderOpenExchangeRates:
			c := oxr.NewClient(cfg.BaseURL(name), cfg.FXAPIKey, hc)
			c.MaxInFlight = cfg.BackfillMaxInFlight
			out[name] = c
		case fred.Name:
			out[name] = fred.NewClient(cfg.BaseURL(name), cfg.APIKey(name), hc)
		case config.ProviderFile:
			out[name] = file.NewClient(cfg.FXFile)
		default:
			if build, ok := keylessAdapters[name]; ok {
				out[name] = build(cfg.BaseURL(name), hc)
			}
		}
	}
	return out
}
