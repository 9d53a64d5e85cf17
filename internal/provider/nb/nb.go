// Package nb reads Norges Bank's daily exchange rates from its SDMX data
// API (dataflow EXR, key B..NOK.SP, CSV format): mid rates, in Norwegian
// kroner, of about 40 currencies and indices, published once per
// Norwegian business day in the afternoon. Each row gives the kroner per
// 10^UNIT_MULT units of the base currency: per 1 (USD, EUR), or per 100
// (JPY, SEK, DKK, HUF...). Keyless; terms at
// https://www.norges-bank.no/en/topics/Statistics/disclaimer/.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the NOK price of one unit: a per-100 value is divided exactly
// (a decimal shift, every digit kept), never inverted. The indices (I44,
// TWI) are no ISO 4217 currencies and are skipped.
package nb

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Oslo local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Norges Bank rate.
const Name = "nb"

// DefaultBaseURL is the root of Norges Bank's SDMX data API.
const DefaultBaseURL = "https://data.norges-bank.no/api"

// Quote is the currency every Norges Bank rate is quoted in.
const Quote = "NOK"

// path names the business-day (B) spot (SP) rates of every base currency
// against NOK.
const path = "/data/EXR/B..NOK.SP"

var oslo = mustLoad("Europe/Oslo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a Norges Bank rate date: 16:00
// Oslo time (CET or CEST) on that date. Norges Bank sets its rates from
// the market around 14:15 and publishes them in the afternoon; the file
// carries only the date, so CES takes 16:00, never before the rate could
// be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, oslo).UTC()
}

// columns the parser needs from the SDMX CSV header.
var needed = []string{"BASE_CUR", "QUOTE_CUR", "UNIT_MULT", "TIME_PERIOD", "OBS_VALUE"}

// Parse reads an SDMX CSV answer for EXR/B..NOK.SP into one RateSet per
// (date, base currency): Base is the currency, its one rate the NOK value
// of one unit (OBS_VALUE shifted by UNIT_MULT), as_of PublicationTime of
// the date. Sets come newest first, then by Base. Codes that are no ISO
// 4217 currency are named in Skipped of the first set of their date. A
// row with an empty OBS_VALUE is a rate not published that day.
func Parse(payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(payload, []byte("\ufeff"))))
	header, err := r.Read()
	if err != nil {
		return nil, invalid("not SDMX CSV: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range needed {
		if _, ok := col[h]; !ok {
			return nil, invalid("not SDMX CSV for EXR: no %s column", h)
		}
	}
	type key struct{ date, code string }
	values := map[key]string{}
	days := map[string]time.Time{}
	skipped := map[string][]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("CSV: %v", err)
		}
		if q := strings.TrimSpace(rec[col["QUOTE_CUR"]]); q != Quote {
			return nil, invalid("a row quotes in %q, not %s", q, Quote)
		}
		date := strings.TrimSpace(rec[col["TIME_PERIOD"]])
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, invalid("TIME_PERIOD %q is not YYYY-MM-DD", date)
		}
		code := strings.TrimSpace(rec[col["BASE_CUR"]])
		obs := strings.TrimSpace(rec[col["OBS_VALUE"]])
		if obs == "" {
			continue
		}
		days[date] = day
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped[date] = append(skipped[date], code)
			continue
		}
		mult, err := strconv.Atoi(strings.TrimSpace(rec[col["UNIT_MULT"]]))
		if err != nil || mult < 0 || mult > 6 {
			return nil, invalid("%s on %s: UNIT_MULT %q is not 0 to 6", code, date, rec[col["UNIT_MULT"]])
		}
		d, err := decimal.NewFromString(obs)
		if err != nil {
			return nil, invalid("%s on %s: OBS_VALUE %q is not a number", code, date, obs)
		}
		k := key{date, code}
		if _, dup := values[k]; dup {
			return nil, invalid("%s on %s appears twice", code, date)
		}
		// Kroner per 10^mult units, per one unit: an exact shift.
		values[k] = fx.Exact(d.Shift(int32(-mult)))
	}
	if len(days) == 0 {
		return nil, nil
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

// Client fetches Norges Bank rates over HTTP (or from a file URL, see
// provider.Get).
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

// Latest returns the newest publication, one set per currency, asking for
// the last observation of each series.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, url.Values{"lastNObservations": {"1"}})
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("the latest observations are empty")
	}
	return newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request: the API serves a period. A
// period without any publication is answered 404, a NoRatesForDate error.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, url.Values{
		"startPeriod": {provider.Date(from).Format(time.DateOnly)},
		"endPeriod":   {provider.Date(to).Format(time.DateOnly)},
	})
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// newest returns the leading sets that share the first set's as_of.
func newest(sets []fx.RateSet) []fx.RateSet {
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n]
}

func (c *Client) get(ctx context.Context, q url.Values) ([]fx.RateSet, error) {
	q.Set("format", "csvdata")
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
