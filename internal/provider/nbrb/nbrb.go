// Package nbrb reads the National Bank of the Republic of Belarus's
// official exchange rates of the Belarusian rouble from its exrates API
// (https://api.nbrb.by/exrates): about 30 currencies set daily
// (periodicity=0), each Cur_OfficialRate in roubles for Cur_Scale units of
// the foreign currency (1, 10, 100, 1000 or 100000: JPY per 100, VND per
// 100000). The Bank sets the rates on each business day for the next, and
// the API dates each rate by the day it is in force, with a rate for every
// calendar day: a weekend's repeats the Friday's (the recorded dynamics
// show 6, 7 and 8 March 2026 alike); CES keeps them as the Bank publishes
// them. Keyless; the Bank states no terms of use for the API.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the BYN price of one unit: a rate per Cur_Scale units is divided
// exactly (a decimal shift, every digit kept), never inverted.
package nbrb

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

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBRB rate.
const Name = "nbrb"

// DefaultBaseURL is the root of the NBRB's exrates API.
const DefaultBaseURL = "https://api.nbrb.by/exrates"

// Quote is the currency every NBRB rate is quoted in.
const Quote = "BYN"

// PublicationTime is the as_of CES gives a rate dated day: 00:00 UTC on
// that day (03:00 in Minsk, UTC+3 all year). The date is the day the rate
// is in force from midnight Minsk time; the Bank set and published it on
// an earlier business day, so it was known before this instant. Midnight
// UTC is the first instant at which the rate is in force and the UTC date
// is still the Bank's own date for it. The undated rates answer, which
// Latest reads, gives the rates in force today, so this as_of is never
// after the fetch.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
}

type rate struct {
	Abbreviation string      `json:"Cur_Abbreviation"`
	Date         string      `json:"Date"`
	Scale        json.Number `json:"Cur_Scale"`
	OfficialRate json.Number `json:"Cur_OfficialRate"` // the number's text, never a float64
}

// perUnit turns rate for scale units into the rouble price of one unit as
// exact text. A scale that is not a power of ten could not be divided
// exactly and is refused.
func perUnit(scale, value string) (string, error) {
	n, err := strconv.ParseUint(scale, 10, 64)
	if err != nil || n == 0 {
		return "", fmt.Errorf("the Cur_Scale %q is not 1, 10, 100, ...", scale)
	}
	var places int32
	for n%10 == 0 {
		n /= 10
		places++
	}
	if n != 1 {
		return "", fmt.Errorf("the Cur_Scale %q is not 1, 10, 100, ...", scale)
	}
	d, err := decimal.NewFromString(value)
	if err != nil {
		return "", fmt.Errorf("the Cur_OfficialRate %q is not a number", value)
	}
	return fx.Exact(d.Shift(-places)), nil
}

// Parse reads an /exrates/rates?periodicity=0 answer (a JSON array, the
// rates in force on one date) into one RateSet per ISO 4217 currency,
// sorted by Base; codes that are no ISO 4217 currency are named in
// Skipped of the first set. An empty array yields no sets (a date without
// rates).
func Parse(payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var rates *[]rate
	if err := dec.Decode(&rates); err != nil {
		return nil, invalid("not an exrates rates answer: %v", err)
	}
	if rates == nil {
		return nil, invalid("not an exrates rates answer: no array")
	}
	if len(*rates) == 0 {
		return nil, nil
	}
	var date string
	var sets []fx.RateSet
	var skipped []string
	seen := map[string]bool{}
	for i, r := range *rates {
		day, err := time.Parse("2006-01-02T15:04:05", strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("rate %d: Date %q is not YYYY-MM-DDT00:00:00", i, r.Date)
		}
		if date == "" {
			date = r.Date
		} else if r.Date != date {
			return nil, invalid("one answer holds two dates, %s and %s", date, r.Date)
		}
		code := strings.TrimSpace(r.Abbreviation)
		if seen[code] {
			return nil, invalid("%s on %s appears twice", code, date)
		}
		seen[code] = true
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped = append(skipped, code)
			continue
		}
		value, err := perUnit(r.Scale.String(), r.OfficialRate.String())
		if err != nil {
			return nil, invalid("%s on %s: %v", code, date, err)
		}
		b, err := provider.NewBuilder(Name, code, PublicationTime(day), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, value); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, date)
		}
		s, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	if len(sets) == 0 {
		return nil, invalid("%s has no usable rates (only %s)", date, strings.Join(skipped, ", "))
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NBRB rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns today's daily rates, one set per currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, url.Values{"periodicity": {"0"}})
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("the daily rates are empty")
	}
	return sets, nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per calendar day (the Bank
// publishes a rate for every day). The API's per-currency range endpoint
// (rates/dynamics) would take fewer requests over long ranges, but its
// records carry no Cur_Scale, and the Bank has changed scales over the
// years: a rate read with the wrong scale is off by a power of ten, so
// History asks for whole days, each of which states its scales.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	for _, d := range provider.Days(from, to) {
		sets, err := c.get(ctx, url.Values{"periodicity": {"0"}, "ondate": {d.Format(time.DateOnly)}})
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, q url.Values) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/rates?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
