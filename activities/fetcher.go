package activities

import (
	"net/http"

	"ces/internal/config"
	"ces/internal/provider"
	"ces/internal/provider/amcm"
	"ces/internal/provider/banrep"
	"ces/internal/provider/bcb"
	"ces/internal/provider/bcn"
	"ces/internal/provider/bcra"
	"ces/internal/provider/bdi"
	"ces/internal/provider/bi"
	"ces/internal/provider/bnm"
	"ces/internal/provider/bnr"
	"ces/internal/provider/bnrrw"
	"ces/internal/provider/boc"
	"ces/internal/provider/boe"
	"ces/internal/provider/boi"
	"ces/internal/provider/bom"
	"ces/internal/provider/cba"
	"ces/internal/provider/cbe"
	"ces/internal/provider/cbk"
	"ces/internal/provider/cbm"
	"ces/internal/provider/cbn"
	"ces/internal/provider/cbr"
	"ces/internal/provider/cbu"
	"ces/internal/provider/cnb"
	"ces/internal/provider/dnb"
	"ces/internal/provider/ecb"
	"ces/internal/provider/fbil"
	"ces/internal/provider/file"
	"ces/internal/provider/fred"
	"ces/internal/provider/hkma"
	"ces/internal/provider/imf"
	"ces/internal/provider/mas"
	"ces/internal/provider/mma"
	"ces/internal/provider/mnb"
	"ces/internal/provider/nb"
	"ces/internal/provider/nbe"
	"ces/internal/provider/nbg"
	"ces/internal/provider/nbk"
	"ces/internal/provider/nbm"
	"ces/internal/provider/nbp"
	"ces/internal/provider/nbrb"
	"ces/internal/provider/nbrm"
	"ces/internal/provider/nbt"
	"ces/internal/provider/nbu"
	"ces/internal/provider/nrb"
	"ces/internal/provider/oxr"
	"ces/internal/provider/peg"
	"ces/internal/provider/rb"
	"ces/internal/provider/rba"
	"ces/internal/provider/sarb"
	"ces/internal/provider/sbi"
	"ces/internal/provider/sbp"
)

// keyless builds the adapter of a publisher that needs only its endpoint.
type keyless func(baseURL string, hc *http.Client) provider.Source

// adapter turns an adapter package's NewClient into a keyless builder.
func adapter[C provider.Source](newClient func(string, *http.Client) C) keyless {
	return func(u string, hc *http.Client) provider.Source { return newClient(u, hc) }
}

// keylessAdapters are the catalogue's keyless publishers, by key: one
// line per adapter package.
var keylessAdapters = map[string]keyless{
	ecb.Name:    adapter(ecb.NewClient),
	cbn.Name:    adapter(cbn.NewClient),
	boc.Name:    adapter(boc.NewClient),
	boe.Name:    adapter(boe.NewClient),
	rba.Name:    adapter(rba.NewClient),
	nb.Name:     adapter(nb.NewClient),
	rb.Name:     adapter(rb.NewClient),
	dnb.Name:    adapter(dnb.NewClient),
	cnb.Name:    adapter(cnb.NewClient),
	nbu.Name:    adapter(nbu.NewClient),
	nbk.Name:    adapter(nbk.NewClient),
	nbg.Name:    adapter(nbg.NewClient),
	bcra.Name:   adapter(bcra.NewClient),
	imf.Name:    adapter(imf.NewClient),
	bdi.Name:    adapter(bdi.NewClient),
	nbp.Name:    adapter(nbp.NewClient),
	mnb.Name:    adapter(mnb.NewClient),
	bnr.Name:    adapter(bnr.NewClient),
	boi.Name:    adapter(boi.NewClient),
	cbe.Name:    adapter(cbe.NewClient),
	cbk.Name:    adapter(cbk.NewClient),
	sarb.Name:   adapter(sarb.NewClient),
	bcb.Name:    adapter(bcb.NewClient),
	banrep.Name: adapter(banrep.NewClient),
	fbil.Name:   adapter(fbil.NewClient),
	bnm.Name:    adapter(bnm.NewClient),
	mas.Name:    adapter(mas.NewClient),
	bi.Name:     adapter(bi.NewClient),
	sbp.Name:    adapter(sbp.NewClient),
	cbr.Name:    adapter(cbr.NewClient),
	sbi.Name:    adapter(sbi.NewClient),
	nbrb.Name:   adapter(nbrb.NewClient),
	cba.Name:    adapter(cba.NewClient),
	nbm.Name:    adapter(nbm.NewClient),
	cbu.Name:    adapter(cbu.NewClient),
	nbt.Name:    adapter(nbt.NewClient),
	nrb.Name:    adapter(nrb.NewClient),
	bom.Name:    adapter(bom.NewClient),
	cbm.Name:    adapter(cbm.NewClient),
	mma.Name:    adapter(mma.NewClient),
	nbe.Name:    adapter(nbe.NewClient),
	amcm.Name:   adapter(amcm.NewClient),
	hkma.Name:   adapter(hkma.NewClient),
	bcn.Name:    adapter(bcn.NewClient),
	bnrrw.Name:  adapter(bnrrw.NewClient),
	nbrm.Name:   adapter(nbrm.NewClient),
	peg.Name:    adapter(peg.NewClient),
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
