// Package rb reads Sveriges Riksbank's daily exchange rates from its SWEA
// API (group 130, currencies against the Swedish krona): one series per
// currency, SEK<code>PMI, each value the kronor one unit of that currency
// is worth (a mid rate, per one unit: the API gives JPY as 0.05907, not per
// 100). The Riksbank publishes once per Swedish banking day in the
// afternoon. Keyless (a key only raises the request quota); terms at
// https://www.riksbank.se/en-gb/about-the-website/terms-of-use/.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the SEK price of one unit, as published: never inverted.
package rb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Stockholm local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Riksbank rate.
const Name = "rb"

// DefaultBaseURL is the root of the Riksbank's SWEA API.
const DefaultBaseURL = "https://api.riksbank.se/swea/v1"

// Quote is the currency every Riksbank rate is quoted in.
const Quote = "SEK"

// group is SWEA's group of exchange rates against SEK.
const group = "130"

var stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a Riksbank rate date: 17:00
// Stockholm time (CET or CEST) on that date. The rates are taken from the
// market in the afternoon and published shortly after; the API gives only
// the date, so CES takes 17:00, after publication, never before the rate
// could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, stockholm).UTC()
}

type observation struct {
	SeriesID string      `json:"seriesId"`
	Date     string      `json:"date"`
	Value    json.Number `json:"value"` // the number's text, never a float64
}

// seriesCode returns the currency of a series SEK<code>PMI. Other series of
// the group (SEKETT, the krona itself at 1) are not exchange rates.
func seriesCode(id string) (string, bool) {
	if len(id) != 9 || !strings.HasPrefix(id, Quote) || !strings.HasSuffix(id, "PMI") {
		return "", false
	}
	return id[3:6], true
}

// Parse reads a SWEA observations array into one RateSet per (date,
// currency): Base is the currency, its one rate the SEK value of one unit
// with the payload's digits, as_of PublicationTime of the date. Sets come
// newest first, then by Base. Series codes that are no ISO 4217 currency
// are named in Skipped of the first set of their date. An empty array
// yields no sets (a range without banking days).
func Parse(payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var obs []observation
	if err := dec.Decode(&obs); err != nil {
		return nil, invalid("not a SWEA observations array: %v", err)
	}
	if obs == nil {
		return nil, invalid("not a SWEA observations array: null")
	}
	type key struct{ date, code string }
	values := map[key]string{}
	days := map[string]time.Time{}
	skipped := map[string][]string{}
	for i, o := range obs {
		if o.SeriesID == "" {
			return nil, invalid("observation %d has no seriesId", i)
		}
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(o.Date))
		if err != nil {
			return nil, invalid("observation %d: date %q is not YYYY-MM-DD", i, o.Date)
		}
		code, ok := seriesCode(o.SeriesID)
		if !ok || o.Value == "" {
			continue
		}
		date := day.Format(time.DateOnly)
		days[date] = day
		if _, iso := fx.LookupCurrency(code); !iso {
			skipped[date] = append(skipped[date], code)
			continue
		}
		k := key{date, code}
		if _, dup := values[k]; dup {
			return nil, invalid("%s on %s appears twice", o.SeriesID, date)
		}
		values[k] = o.Value.String()
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

// Client fetches Riksbank rates over HTTP (or from a file URL, see
// provider.Get).
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

// latestWindow is how far back Latest looks: longer than any run of
// Swedish holidays and weekend (Christmas to New Year).
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest publication of the last two weeks, one set
// per currency, from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(stockholm)
	sets, err := c.get(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last two weeks")
	}
	return newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request: SWEA serves a date range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from), provider.Date(to))
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

func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	u := fmt.Sprintf("%s/Observations/ByGroup/%s/%s/%s", c.baseURL, group,
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	body, err := provider.Get(ctx, c.http, Name, u)
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
