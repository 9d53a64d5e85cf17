// Package cnb reads the Czech National Bank's daily exchange rate fixing
// from its CNB API (exrates): about 30 currencies, each a rate in Czech
// koruna for an "amount" of foreign units (1, 100 or 1000: JPY per 100,
// IDR per 1000), declared once per Czech business day at 14:30 Prague
// time. Keyless; terms at
// https://www.cnb.cz/en/footer/general-terms-and-conditions/.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the CZK price of one unit: a per-100 or per-1000 rate is
// divided exactly (a decimal shift, every digit kept), never inverted.
package cnb

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
	_ "time/tzdata" // the publication time is Prague local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CNB rate.
const Name = "cnb"

// DefaultBaseURL is the root of the CNB API.
const DefaultBaseURL = "https://api.cnb.cz/cnbapi"

// Quote is the currency every CNB rate is quoted in.
const Quote = "CZK"

var prague = mustLoad("Europe/Prague")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a CNB rate date: 14:30 Prague
// time (CET or CEST) on that date, when the CNB declares its fixing.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 14, 30, 0, 0, prague).UTC()
}

type response struct {
	Rates *[]struct {
		CurrencyCode string      `json:"currencyCode"`
		Amount       json.Number `json:"amount"`
		ValidFor     string      `json:"validFor"`
		Rate         json.Number `json:"rate"` // the number's text, never a float64
	} `json:"rates"`
}

// shift returns the decimal places that turn a rate for amount units into
// a rate for one: 0 for 1, 2 for 100, 3 for 1000. Any amount that is not
// a power of ten could not be divided exactly and is refused.
func shift(amount string) (int32, bool) {
	n, err := strconv.ParseUint(amount, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	var places int32
	for n%10 == 0 {
		n /= 10
		places++
	}
	return places, n == 1
}

// Parse reads an exrates answer ({"rates": [...]}, from the daily or the
// daily-year endpoint) into one RateSet per (date, currency): Base is the
// currency, its one rate the CZK value of one unit, as_of PublicationTime
// of validFor. Sets come newest first, then by Base. Codes that are no
// ISO 4217 currency are named in Skipped of the first set of their date.
// An empty rates array yields no sets (a year without a fixing yet).
func Parse(payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var resp response
	if err := dec.Decode(&resp); err != nil {
		return nil, invalid("not a CNB exrates answer: %v", err)
	}
	if resp.Rates == nil {
		return nil, invalid("not a CNB exrates answer: no rates array")
	}
	type key struct{ date, code string }
	values := map[key]string{}
	days := map[string]time.Time{}
	skipped := map[string][]string{}
	for i, r := range *resp.Rates {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(r.ValidFor))
		if err != nil {
			return nil, invalid("rate %d: validFor %q is not YYYY-MM-DD", i, r.ValidFor)
		}
		date := day.Format(time.DateOnly)
		code := strings.TrimSpace(r.CurrencyCode)
		days[date] = day
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped[date] = append(skipped[date], code)
			continue
		}
		places, ok := shift(r.Amount.String())
		if !ok {
			return nil, invalid("%s on %s: amount %q is not 1, 10, 100, ...", code, date, r.Amount)
		}
		d, err := decimal.NewFromString(r.Rate.String())
		if err != nil {
			return nil, invalid("%s on %s: rate %q is not a number", code, date, r.Rate)
		}
		k := key{date, code}
		if _, dup := values[k]; dup {
			return nil, invalid("%s on %s appears twice", code, date)
		}
		// Koruna per amount units, per one unit: an exact shift.
		values[k] = fx.Exact(d.Shift(-places))
	}
	byDate := map[string][]fx.RateSet{}
	for k, v := range values {
		b, err := provider.NewBuilder(Name, k.code, PublicationTime(days[k.date]), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, v); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, k.code, k.date)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		byDate[k.date] = append(byDate[k.date], set)
	}
	dates := make([]string, 0, len(days))
	for date := range days {
		dates = append(dates, date)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dates)))
	var sets []fx.RateSet
	for _, date := range dates {
		day := byDate[date]
		if len(day) == 0 {
			return nil, invalid("%s has no usable rates (only %s)", date, strings.Join(skipped[date], ", "))
		}
		sort.Slice(day, func(i, j int) bool { return day[i].Base < day[j].Base })
		s := skipped[date]
		sort.Strings(s)
		day[0].Skipped = s
		sets = append(sets, day...)
	}
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches CNB rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest fixing, one set per currency, from the daily
// endpoint (which answers the fixing in force today).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, "/exrates/daily", url.Values{"lang": {"EN"}})
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("the daily fixing is empty")
	}
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n], nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per calendar year the range
// touches (the daily-year endpoint serves a whole year).
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	for year := provider.Date(from).Year(); year <= provider.Date(to).Year(); year++ {
		sets, err := c.get(ctx, "/exrates/daily-year", url.Values{"lang": {"EN"}, "year": {strconv.Itoa(year)}})
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
