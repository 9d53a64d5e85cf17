// Package banrep reads Colombia's representative market rate (TRM, Tasa
// Representativa del Mercado), the peso price of one US dollar that the
// Banco de la República computes and the Superintendencia Financiera
// certifies, from the open-data portal datos.gov.co (Socrata dataset
// 32sa-8pi3), keyless. Each row gives the rate in pesos per one dollar
// and the dates it is valid from and to: a TRM is set on a business day
// for the next one, and a Friday's covers the weekend and any Monday
// holiday. One row per validity start, cadence daily. No terms-of-use URL
// is recorded for it (the publisher metadata has none); the datos.gov.co
// portal's terms apply.
package banrep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every TRM.
const Name = "banrep"

// DefaultBaseURL is the root of the datos.gov.co Socrata resources.
const DefaultBaseURL = "https://www.datos.gov.co/resource"

// dataset is the TRM's Socrata dataset identifier.
const dataset = "32sa-8pi3"

// Base and Quote: every set is one US dollar priced in pesos.
const (
	Base  = "USD"
	Quote = "COP"
)

// bogota is Colombia's time, UTC-5 all year (no daylight saving), so a
// fixed zone is exact.
var bogota = time.FixedZone("COT", -5*60*60)

// PublicationTime is the as_of CES gives a TRM: midnight in Bogotá at the
// start of the day it is valid from (vigenciadesde), 05:00 UTC. The TRM
// is published on the previous business day's afternoon, so by then it is
// surely known; its date is the first day it applies to.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, bogota).UTC()
}

type row struct {
	Value string `json:"valor"`
	Unit  string `json:"unidad"`
	From  string `json:"vigenciadesde"`
	To    string `json:"vigenciahasta"`
}

// socrataTime is how the portal writes a floating timestamp.
const socrataTime = "2006-01-02T15:04:05.000"

// Parse reads a Socrata JSON array of TRM rows into one RateSet per row,
// oldest first: Base USD, one rate in COP with the row's digits, as_of
// PublicationTime of its validity start. name names the sets.
func Parse(name string, body []byte) ([]fx.RateSet, error) {
	var rows []row
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, provider.Invalid("provider %s: not a JSON array of TRM rows: %v", name, err)
	}
	sets := make([]fx.RateSet, 0, len(rows))
	seen := map[string]bool{}
	for i, r := range rows {
		from, err := time.Parse(socrataTime, strings.TrimSpace(r.From))
		if err != nil {
			return nil, provider.Invalid("provider %s: row %d: validity start %q: %v", name, i, r.From, err)
		}
		day := from.Format(time.DateOnly)
		if strings.TrimSpace(r.Unit) != Quote {
			return nil, provider.Invalid("provider %s: TRM of %s is in %q, not %s", name, day, r.Unit, Quote)
		}
		if seen[day] {
			return nil, provider.Invalid("provider %s: two TRM rows valid from %s", name, day)
		}
		seen[day] = true
		b, err := provider.NewBuilder(name, Base, PublicationTime(from), body)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, r.Value); err != nil {
			return nil, fmt.Errorf("%w (TRM of %s)", err, day)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// Client fetches the TRM from datos.gov.co.
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest TRM, asking for the row with the latest
// validity start.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("$order", "vigenciadesde DESC")
	q.Set("$limit", "1")
	sets, err := c.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: the portal returned no TRM", Name)
	}
	return sets[len(sets)-1:], nil
}

// History returns the TRMs valid from a date in [from, to], oldest
// first, with one request for the whole range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("$order", "vigenciadesde ASC")
	// Beyond 30 years of business days; Socrata's default page is 1000 rows.
	q.Set("$limit", "50000")
	q.Set("$where", fmt.Sprintf("vigenciadesde>='%s' AND vigenciadesde<='%s'",
		provider.Date(from).Format(socrataTime), provider.Date(to).Format(socrataTime)))
	sets, err := c.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) get(ctx context.Context, q url.Values) ([]fx.RateSet, error) {
	u := c.baseURL + "/" + dataset + ".json?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	body, err := provider.Get(ctx, c.http, Name, u)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
