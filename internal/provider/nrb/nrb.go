// Package nrb reads Nepal Rastra Bank's foreign exchange rates from its
// forex API (https://www.nrb.org.np/api/forex/v1/rates, keyless; the NRB
// names no terms for it), which serves any range of dates in pages of up
// to 100. For each date the NRB publishes a buying and a selling rate in
// Nepalese rupees per 1, 10 or 100 units (the payload's "unit": INR and
// KRW per 100, JPY per 10) of about twenty foreign currencies; CES keeps
// their exact middle per single unit, one set per foreign currency with
// Base = that currency and one rate Quote = NPR. No rate is ever inverted.
package nrb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NRB rate.
const Name = "nrb"

// DefaultBaseURL is the root of the NRB's site.
const DefaultBaseURL = "https://www.nrb.org.np"

// Quote is Nepal's currency, the quote of every NRB rate.
const Quote = "NPR"

const ratesPath = "/api/forex/v1/rates"

// perPage is the largest page the API serves.
const perPage = 100

// kathmandu is Nepal Time, UTC+5:45 all year (no daylight saving), so a
// fixed zone is exact and needs no tzdata.
var kathmandu = time.FixedZone("NPT", 5*60*60+45*60)

type answer struct {
	Data *struct {
		Payload []struct {
			Date        string `json:"date"`
			PublishedOn string `json:"published_on"`
			Rates       []struct {
				Currency struct {
					ISO3 string      `json:"iso3"`
					Unit json.Number `json:"unit"`
				} `json:"currency"`
				Buy  string `json:"buy"`
				Sell string `json:"sell"`
			} `json:"rates"`
		} `json:"payload"`
	} `json:"data"`
	Pagination *struct {
		Page  int `json:"page"`
		Pages int `json:"pages"`
	} `json:"pagination"`
}

// Parse reads one page of the API's answer into one set per (date,
// foreign currency), oldest date first and, within a date, by Base, and
// returns the number of pages the answer says the range has. as_of is
// the date's "published_on", stated in Kathmandu time (the NRB publishes
// each date's rates at midnight starting it, e.g. 2026-04-01 00:00:13 NPT,
// 2026-03-31T18:15:13Z): the publisher's own instant. A rate is the exact
// middle of buy and sell, divided exactly by unit.
func Parse(payload []byte) ([]fx.RateSet, int, error) {
	var a answer
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return nil, 0, invalid("not the rates JSON: %v", err)
	}
	if a.Data == nil || a.Pagination == nil {
		return nil, 0, invalid("the answer has no data or no pagination")
	}
	var all []fx.RateSet
	for _, p := range a.Data.Payload {
		if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
			return nil, 0, invalid("date %q is not YYYY-MM-DD", p.Date)
		}
		asOf, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(p.PublishedOn), kathmandu)
		if err != nil {
			return nil, 0, invalid("%s: published_on %q is not YYYY-MM-DD hh:mm:ss", p.Date, p.PublishedOn)
		}
		rates := make([]provider.Foreign, 0, len(p.Rates))
		for _, r := range p.Rates {
			mid, err := provider.Mid(r.Buy, r.Sell)
			if err != nil {
				return nil, 0, invalid("%s of %s: %v", r.Currency.ISO3, p.Date, err)
			}
			units, err := strconv.ParseInt(r.Currency.Unit.String(), 10, 64)
			if err != nil {
				return nil, 0, invalid("%s of %s: unit %q is not a whole number", r.Currency.ISO3, p.Date, r.Currency.Unit)
			}
			rates = append(rates, provider.Foreign{Code: r.Currency.ISO3, Value: mid, Units: units})
		}
		sets, err := provider.ForeignSets(Name, Quote, asOf.UTC(), payload, rates)
		if err != nil {
			return nil, 0, err
		}
		all = append(all, sets...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AsOf.Before(all[j].AsOf) })
	return all, a.Pagination.Pages, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NRB rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest date's sets, by Base, from one request for
// the last week of dates (Kathmandu).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(kathmandu))
	sets, err := c.get(ctx, today.AddDate(0, 0, -6), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no rates in the week to %s", Name, today.Format(time.DateOnly)))
	}
	return provider.Newest(sets), nil
}

// History returns the publications dated (as_of, UTC) from to to
// (inclusive), oldest first and, within one, by Base. A date's rates are
// published at midnight Kathmandu, the evening before in UTC, so it asks
// for the NRB's dates from from to the day after to: one request per 100
// dates.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from), provider.Date(to).AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get asks for the NRB's dates from to to, page after page.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	var all []fx.RateSet
	for page, pages := 1, 1; page <= pages; page++ {
		q := url.Values{}
		q.Set("from", from.Format(time.DateOnly))
		q.Set("to", to.Format(time.DateOnly))
		q.Set("per_page", strconv.Itoa(perPage))
		q.Set("page", strconv.Itoa(page))
		body, err := provider.Get(ctx, c.http, Name, c.baseURL+ratesPath+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		sets, n, err := Parse(body)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
		pages = n
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AsOf.Before(all[j].AsOf) })
	return all, nil
}
