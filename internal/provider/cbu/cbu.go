// Package cbu reads the Central Bank of Uzbekistan's official exchange
// rates of the sum from its JSON archive
// (https://cbu.uz/en/arkhiv-kursov-valyut/json/): about 75 currencies, each
// a Rate in sums for a Nominal of foreign units (1, or 10 for IDR, IRR and
// VND), one list per date. Keyless; the Bank states no terms of use for
// the archive.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the UZS price of one unit: a rate per Nominal units is divided
// exactly (a decimal shift, every digit kept), never inverted.
package cbu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBU rate.
const Name = "cbu"

// DefaultBaseURL is the root of the CBU's JSON archive.
const DefaultBaseURL = "https://cbu.uz/en/arkhiv-kursov-valyut/json"

// Quote is the currency every CBU rate is quoted in.
const Quote = "UZS"

// tashkent is Uzbekistan's time, UTC+5 all year (no daylight saving
// since 1992), as a fixed zone.
var tashkent = time.FixedZone("UZT", 5*60*60)

// PublicationTime is the as_of CES gives a rate dated day: 18:00 Tashkent
// time on that day. The archive gives a date only and the Bank states no
// publication hour for it; the end of the local business day is never
// earlier than the rate could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, tashkent).UTC()
}

type rate struct {
	Ccy     string      `json:"Ccy"`
	Date    string      `json:"Date"`
	Nominal json.Number `json:"Nominal"` // a JSON string or number, read as its text
	Rate    json.Number `json:"Rate"`    // never a float64
}

// perUnit turns a rate for nominal units into the sum price of one unit
// as exact text. A nominal that is not a power of ten could not be divided
// exactly and is refused.
func perUnit(nominal, value string) (string, error) {
	n, err := strconv.ParseUint(nominal, 10, 64)
	if err != nil || n == 0 {
		return "", fmt.Errorf("nominal %q is not 1, 10, 100, ...", nominal)
	}
	var places int32
	for n%10 == 0 {
		n /= 10
		places++
	}
	if n != 1 {
		return "", fmt.Errorf("nominal %q is not 1, 10, 100, ...", nominal)
	}
	d, err := decimal.NewFromString(value)
	if err != nil {
		return "", fmt.Errorf("rate %q is not a number", value)
	}
	return fx.Exact(d.Shift(-places)), nil
}

// Parse reads one date's archive answer (a JSON array) into one RateSet
// per ISO 4217 currency, sorted by Base; codes that are no ISO 4217
// currency are named in Skipped of the first set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var rates *[]rate
	if err := dec.Decode(&rates); err != nil {
		return nil, invalid("not an archive answer: %v", err)
	}
	if rates == nil || len(*rates) == 0 {
		return nil, invalid("not an archive answer: no rates")
	}
	var date string
	var sets []fx.RateSet
	var skipped []string
	seen := map[string]bool{}
	for i, r := range *rates {
		day, err := time.Parse("02.01.2006", strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("rate %d: Date %q is not DD.MM.YYYY", i, r.Date)
		}
		if date == "" {
			date = r.Date
		} else if r.Date != date {
			return nil, invalid("one answer holds two dates, %s and %s", date, r.Date)
		}
		code := strings.TrimSpace(r.Ccy)
		if seen[code] {
			return nil, invalid("%s on %s appears twice", code, date)
		}
		seen[code] = true
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped = append(skipped, code)
			continue
		}
		value, err := perUnit(r.Nominal.String(), r.Rate.String())
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

// Client fetches CBU rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the rates in force today, one set per currency, from the
// archive's undated address.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	return c.get(ctx, "/")
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: the archive serves one date per request, so one
// request per calendar day; a date answered with another date's list (a
// weekend's) is kept once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	seen := map[time.Time]bool{}
	for _, d := range provider.Days(from, to) {
		sets, err := c.get(ctx, "/all/"+d.Format(time.DateOnly)+"/")
		if err != nil {
			return nil, err
		}
		if !seen[sets[0].AsOf] {
			seen[sets[0].AsOf] = true
			all = append(all, sets...)
		}
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, path string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path)
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
