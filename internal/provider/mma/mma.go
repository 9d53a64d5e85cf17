// Package mma reads the Maldives Monetary Authority's reference rate of
// the rufiyaa: the JSON file behind its rates page
// (https://www.mma.gov.mv/JSON/referencerates.json, keyless; the MMA names
// no terms for it), one array of every date since April 2011, newest
// first. Each Maldivian business day (Sunday to Thursday) the MMA
// publishes one rate, rufiyaa per 1 US dollar ("Rate":"15.42"), which
// becomes a set with Base = USD and one rate Quote = MVR, never inverted.
package mma

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every MMA rate.
const Name = "mma"

// DefaultBaseURL is the root of the MMA's site.
const DefaultBaseURL = "https://www.mma.gov.mv"

// Quote is the Maldives' currency, the quote of the MMA's rate.
const Quote = "MVR"

const ratesPath = "/JSON/referencerates.json"

// male is Maldives Time, UTC+5 all year (no daylight saving), so a fixed
// zone is exact and needs no tzdata.
var male = time.FixedZone("MVT", 5*60*60)

// PublicationTime is the as_of CES gives an MMA rate date: 08:00 in Malé
// on that date, 03:00 UTC, the first poll of its publication window. The
// file has dates and no time and the MMA states no publication hour.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, male).UTC()
}

// Parse reads the file into one set per date, oldest first. A date listed
// twice with the same rate is kept once (the file has some); with two
// rates it makes the file invalid.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var rows *[]struct {
		Date string `json:"Date"`
		Rate string `json:"Rate"`
	}
	if err := json.Unmarshal(payload, &rows); err != nil {
		return nil, invalid("not the reference rates JSON: %v", err)
	}
	if rows == nil || len(*rows) == 0 {
		return nil, invalid("the file has no rates")
	}
	rates := map[time.Time]string{}
	for i, r := range *rows {
		day, err := time.Parse("02 January 2006", strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("row %d: date %q is not like 21 May 2026", i, r.Date)
		}
		value := strings.TrimSpace(r.Rate)
		if prev, dup := rates[day]; dup {
			if prev != value {
				return nil, invalid("%s appears twice, as %s and %s", r.Date, prev, value)
			}
			continue
		}
		rates[day] = value
	}
	sets := make([]fx.RateSet, 0, len(rates))
	for day, value := range rates {
		published, err := provider.ForeignSets(Name, Quote, PublicationTime(day), payload,
			[]provider.Foreign{{Code: "USD", Value: value}})
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches the MMA's file over HTTP (or from a file URL, see
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

// Latest returns the newest date's set.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return []fx.RateSet{sets[len(sets)-1]}, nil
}

// History returns the sets dated from to to (inclusive), oldest first,
// from one request for the whole file.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get fetches and parses the file, with today's date (Malé) as a version
// parameter (the recorded request carries one, v=YYYYMMDD), so no cache
// serves an older copy.
func (c *Client) get(ctx context.Context) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("v", c.now().In(male).Format("20060102"))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+ratesPath+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
