package httpapi

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ces/internal/catalog"
	"ces/internal/rates"
)

type coverageJSON struct {
	Code  string `json:"code"`
	First string `json:"first"`
	Last  string `json:"last"`
}

type providerJSON struct {
	Key           string         `json:"key"`
	Name          string         `json:"name"`
	Country       string         `json:"country,omitempty"`
	Issues        string         `json:"issues,omitempty"`
	RateType      string         `json:"rate_type,omitempty"`
	Pivot         string         `json:"pivot,omitempty"`
	Quoting       string         `json:"quoting"`
	Cadence       string         `json:"cadence"`
	Schedule      []string       `json:"schedule"`
	CoverageStart string         `json:"coverage_start"`
	DataURL       string         `json:"data_url,omitempty"`
	TermsURL      string         `json:"terms_url,omitempty"`
	Keyless       bool           `json:"keyless"`
	Configured    bool           `json:"configured"`
	Newest        string         `json:"newest_publication,omitempty"`
	Stale         bool           `json:"stale"`
	Health        *healthJSON    `json:"health,omitempty"`
	Currencies    []coverageJSON `json:"currencies"`
	Pegs          []pegJSON      `json:"pegs,omitempty"`
}

// healthJSON is a publisher's newest health check.
type healthJSON struct {
	Status    string `json:"status"`
	Expected  int    `json:"expected"`
	Missed    int    `json:"missed"`
	Newest    string `json:"newest,omitempty"`
	CheckedAt string `json:"checked_at"`
}

// pegJSON is one legal peg, as the pegs' publisher lists them.
type pegJSON struct {
	Currency  string `json:"currency"`
	Anchor    string `json:"anchor"`
	Rate      string `json:"rate"`
	Since     string `json:"since"`
	Authority string `json:"authority"`
	Source    string `json:"source"`
}

type providersJSON struct {
	Providers []providerJSON `json:"providers"`
}

// providers serves GET /api/v1/providers: every publisher of the
// catalogue, what it quotes and when, and, for the configured ones, what
// is stored of each currency and how fresh the newest publication is.
func (h *handlers) providers(c *fiber.Ctx) error {
	list, err := h.d.Rates.Publishers(c.UserContext())
	if err != nil {
		return h.explain(c, err)
	}
	body := providersJSON{Providers: make([]providerJSON, len(list))}
	var key strings.Builder
	key.WriteString("providers")
	for i, p := range list {
		body.Providers[i] = publisherJSON(p)
		key.WriteString("|" + p.Key + strconv.FormatBool(p.Configured) + strconv.FormatBool(p.Stale) + body.Providers[i].Newest)
		if h := body.Providers[i].Health; h != nil {
			key.WriteString(h.Status + strconv.Itoa(h.Missed) + h.CheckedAt)
		}
		for _, cur := range body.Providers[i].Currencies {
			key.WriteString(cur.Code + cur.First + cur.Last)
		}
	}
	return sendCached(c, body, key.String(), cacheLatest)
}

func publisherJSON(p rates.Publisher) providerJSON {
	out := providerJSON{
		Key: p.Key, Name: p.Name, Country: p.Country, Issues: p.Issues, RateType: p.RateType,
		Pivot: p.Pivot, Quoting: p.Quoting, Cadence: string(p.Cadence), Schedule: p.Schedule,
		CoverageStart: p.CoverageStart, DataURL: p.DataURL, TermsURL: p.TermsURL,
		Keyless: p.Keyless(), Configured: p.Configured, Stale: p.Stale,
		Currencies: make([]coverageJSON, len(p.Currencies)),
	}
	if out.Schedule == nil {
		out.Schedule = []string{}
	}
	if p.Key == catalog.PegProvider {
		for _, g := range catalog.Pegs() {
			out.Pegs = append(out.Pegs, pegJSON{Currency: g.Quote, Anchor: g.Base, Rate: g.Rate, Since: g.Since, Authority: g.Authority, Source: g.Source})
		}
	}
	if !p.Newest.IsZero() {
		out.Newest = rfc3339(p.Newest)
	}
	if h := p.Health; h != nil {
		out.Health = &healthJSON{Status: string(h.Status), Expected: h.Expected, Missed: h.Missed, CheckedAt: rfc3339(h.CheckedAt)}
		if !h.Newest.IsZero() {
			out.Health.Newest = rfc3339(h.Newest)
		}
	}
	for i, cur := range p.Currencies {
		out.Currencies[i] = coverageJSON{Code: cur.Code, First: rfc3339(cur.First), Last: rfc3339(cur.Last)}
	}
	return out
}
