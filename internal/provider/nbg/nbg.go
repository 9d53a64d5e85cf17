// Package nbg reads the National Bank of Georgia's official lari exchange
// rates from its currencies JSON API: lari per 1, 10, 100, 1000 or 10000
// units (the payload's "quantity") of about forty foreign currencies. The
// NBG publishes once per Georgian business day, in the evening, rates
// valid from the next day; one date per request, no API key. The NBG
// names no terms of use; its rates page is
// https://nbg.gov.ge/en/monetary-policy/currency.
package nbg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBG rate.
const Name = "nbg"

// DefaultBaseURL is the root of the NBG's API gateway.
const DefaultBaseURL = "https://nbg.gov.ge/gw/api/ct/monetarypolicy"

// Quote is the currency every NBG rate is quoted in: a set's Base is the
// foreign currency and its single rate is the lari price of one unit.
const Quote = "GEL"

// tbilisi is Georgia Time, UTC+4 all year (no daylight saving since
// 2005), used only to find today's date for Latest.
var tbilisi = time.FixedZone("GET", 4*60*60)

type publication struct {
	Date       string `json:"date"`
	Currencies []struct {
		Code      string      `json:"code"`
		Quantity  json.Number `json:"quantity"`
		Rate      json.Number `json:"rate"`
		Published string      `json:"date"`
		ValidFrom string      `json:"validFromDate"`
	} `json:"currencies"`
}

// Parse reads a currencies answer (an array of publications) into one
// RateSet per (publication, foreign currency), newest first, then by Base.
// A rate is lari per unit: the payload's rate divided exactly by its
// quantity, every digit kept. as_of is the publication instant the
// payload states for each rate ("date", e.g. 2026-02-27T17:01:00.093Z for
// the rates valid from 2026-02-28), the latest of them if they differ: the
// publisher's own time, so never before the rates were known. Codes that
// are no ISO currency are recorded in Skipped of the publication's first
// set. An empty array, or a publication without currencies, yields none.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var pubs []publication
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&pubs); err != nil {
		return nil, invalid("not a JSON array of publications: %v", err)
	}
	if pubs == nil {
		return nil, invalid("payload is null, not an array of publications")
	}
	var all []fx.RateSet
	for _, p := range pubs {
		if len(p.Currencies) == 0 {
			continue
		}
		var asOf time.Time
		for _, c := range p.Currencies {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(c.Published))
			if err != nil {
				return nil, invalid("%s of %s: publication time %q is not RFC 3339", c.Code, p.Date, c.Published)
			}
			if t.After(asOf) {
				asOf = t
			}
		}
		var sets []fx.RateSet
		var skipped []string
		seen := map[string]bool{}
		for _, c := range p.Currencies {
			code := strings.TrimSpace(c.Code)
			if _, ok := fx.LookupCurrency(code); !ok {
				if code == "" {
					return nil, invalid("a rate of %s has no currency code", p.Date)
				}
				skipped = append(skipped, code)
				continue
			}
			if seen[code] {
				return nil, invalid("%s appears twice in %s", code, p.Date)
			}
			seen[code] = true
			value, err := perUnit(c.Rate.String(), c.Quantity.String())
			if err != nil {
				return nil, invalid("%s of %s: %v", code, p.Date, err)
			}
			b, err := provider.NewBuilder(Name, code, asOf, payload)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, value); err != nil {
				return nil, fmt.Errorf("%w (%s of %s)", err, code, p.Date)
			}
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			sets = append(sets, set)
		}
		if len(sets) == 0 {
			return nil, invalid("%s has no usable rates (only %s)", p.Date, strings.Join(skipped, ", "))
		}
		sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
		sort.Strings(skipped)
		sets[0].Skipped = skipped
		all = append(all, sets...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AsOf.After(all[j].AsOf) })
	return all, nil
}

// perUnit divides a rate quoted per units (1, 10, 100, 1000, ...) exactly,
// by moving the decimal point, and writes it with every digit kept.
func perUnit(rate, units string) (string, error) {
	v, err := decimal.NewFromString(strings.TrimSpace(rate))
	if err != nil {
		return "", fmt.Errorf("rate %q is not a number", rate)
	}
	u := strings.TrimSpace(units)
	if u == "" || u[0] != '1' || strings.Trim(u[1:], "0") != "" {
		return "", fmt.Errorf("quantity %q is not 1, 10, 100, ...", units)
	}
	return fx.Exact(v.Shift(-int32(len(u) - 1))), nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NBG rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest publication: one set per foreign currency. It
// asks for the rates valid tomorrow (Tbilisi), which today's evening
// publication sets, and for today's when tomorrow's are not out yet.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(tbilisi))
	for _, day := range []time.Time{today.AddDate(0, 0, 1), today} {
		sets, err := c.get(ctx, day)
		if err != nil {
			return nil, err
		}
		if len(sets) > 0 {
			return newest(sets), nil
		}
	}
	return nil, provider.Permanent(provider.TypeNoRatesForDate,
		fmt.Errorf("provider %s: no rates valid on %s", Name, today.Format(time.DateOnly)))
}

// History returns the publications dated (as_of, UTC) from to to
// (inclusive), oldest first and, within one, by Base. The API answers a
// validity date with the rates valid then, which the business day before
// published, so it asks, for each weekday of the range, for the next day:
// one request per possible publication day. A holiday's answer repeats an
// earlier publication, kept once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	seen := map[time.Time]bool{}
	for _, day := range provider.Days(from, to) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		sets, err := c.get(ctx, day.AddDate(0, 0, 1))
		if err != nil {
			return nil, err
		}
		fresh := map[time.Time]bool{}
		for _, s := range sets {
			if seen[s.AsOf] {
				continue // an earlier answer held this publication
			}
			fresh[s.AsOf] = true
			all = append(all, s)
		}
		for t := range fresh {
			seen[t] = true
		}
	}
	return provider.Between(all, from, to), nil
}

// newest returns the leading sets that share the first set's as_of.
func newest(sets []fx.RateSet) []fx.RateSet {
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n]
}

func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("date", day.Format(time.DateOnly))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/currencies/?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
