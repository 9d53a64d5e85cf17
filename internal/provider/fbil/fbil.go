// Package fbil reads the Financial Benchmarks India reference rates: the
// rupee price of USD, GBP, EUR and AED per one unit, of JPY per 100 units
// and of IDR per 10,000 units, each product named like "INR / 100 JPY",
// fixed once per Indian business day and shown from the display time
// each row states (13:00 IST in the recording), which CES takes as as_of,
// direction as published (never inverted). The JSON
// service behind the FBIL site (fetchfiltered) is keyless and serves date
// ranges. Terms: https://www.fbil.org.in/#/termsandcondition.
package fbil

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every FBIL rate.
const Name = "fbil"

// DefaultBaseURL is the root of the FBIL reference-rate service.
const DefaultBaseURL = "https://www.fbil.org.in/wasdm/refrates"

// Quote is the currency every FBIL reference rate is quoted in: a set's
// Base is the foreign currency, its single rate the rupee price of one
// unit.
const Quote = "INR"

// kolkata is India Standard Time, UTC+5:30 all year, so a fixed zone is
// exact.
var kolkata = time.FixedZone("IST", 5*60*60+30*60)

// product matches a product name: the rupee price of N units of a
// currency, N a power of ten.
var product = regexp.MustCompile(`^INR\s*/\s*(1(?:0*))\s+([A-Z]{3})$`)

type row struct {
	RunDate string      `json:"processRunDate"`
	Product string      `json:"subProdName"`
	Display string      `json:"displayTime"`
	Rate    json.Number `json:"rate"`
}

// Parse reads a fetchfiltered JSON array into one RateSet per (day,
// currency), oldest first and, within a day, by Base: the one rate is
// rupees per ONE unit, the published figure divided exactly by its unit
// (per-100 JPY moved two places, per-10,000 IDR four), as_of the row's
// display time in IST. Products not quoted in rupees, or in a currency
// that is not ISO 4217, are skipped. name names the sets.
func Parse(name string, body []byte) ([]fx.RateSet, error) {
	var rows []row
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber() // rates stay decimal text, never float64
	if err := dec.Decode(&rows); err != nil {
		return nil, provider.Invalid("provider %s: not a JSON array of reference rates: %v", name, err)
	}
	type key struct{ day, code string }
	seen := map[key]bool{}
	var sets []fx.RateSet
	for i, r := range rows {
		if !strings.HasPrefix(strings.TrimSpace(r.Product), Quote) {
			continue // another product family (none today)
		}
		m := product.FindStringSubmatch(strings.TrimSpace(r.Product))
		if m == nil {
			return nil, provider.Invalid("provider %s: row %d: product %q is not \"INR / <units> <code>\"", name, i, r.Product)
		}
		units, code := m[1], m[2]
		if _, ok := fx.LookupCurrency(code); !ok {
			continue
		}
		at, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(r.Display), kolkata)
		if err != nil {
			return nil, provider.Invalid("provider %s: row %d: display time %q: %v", name, i, r.Display, err)
		}
		k := key{at.Format(time.DateOnly), code}
		if seen[k] {
			return nil, provider.Invalid("provider %s: %s appears twice on %s", name, code, k.day)
		}
		seen[k] = true
		v, err := decimal.NewFromString(r.Rate.String())
		if err != nil {
			return nil, provider.Invalid("provider %s: %s on %s: rate %q: %v", name, code, k.day, r.Rate, err)
		}
		// units is 1 followed by zeros: dividing by it is an exact shift.
		perUnit := v.Shift(-int32(len(units) - 1))
		b, err := provider.NewBuilder(name, code, at, body)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, fx.Exact(perUnit)); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, k.day)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// Client fetches FBIL reference rates over HTTP.
type Client struct {
	baseURL string
	http    *http.Client
	now     func() time.Time
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: hc, now: time.Now}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// latestWindow is how far back Latest looks: wide enough to cross a long
// run of Indian holidays (Diwali falls near weekends).
const latestWindow = 10 * 24 * time.Hour

// Latest returns the newest day's rates, one set per currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(kolkata)
	sets, err := c.fetch(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: no reference rate since %s", Name, now.Add(-latestWindow).Format(time.DateOnly))
	}
	newest := provider.Date(sets[len(sets)-1].AsOf.In(kolkata))
	return provider.Between(sets, newest, newest), nil
}

// History returns the reference rates dated from to to (inclusive),
// oldest first, with one request for the whole range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.fetch(ctx, provider.Date(from), provider.Date(to))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) fetch(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("authenticated", "false")
	q.Set("fromDate", from.Format(time.DateOnly))
	q.Set("toDate", to.Format(time.DateOnly))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/fetchfiltered?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
