// Package nbp reads Narodowy Bank Polski's average exchange rates from its
// Web API (https://api.nbp.pl/en.html, keyless; NBP names no terms for the
// API beyond the conditions on that page). Two tables are read:
// table A, about 30 major currencies, published every Polish business day,
// and table B, about 115 others, published on Wednesdays. Both quote
// zlotys per one unit of the foreign currency ("mid"), so each currency is
// a set with Base = that currency and one rate Quote = PLN, never inverted.
package nbp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Warsaw local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBP rate.
const Name = "nbp"

// DefaultBaseURL is the root of the NBP Web API.
const DefaultBaseURL = "https://api.nbp.pl/api"

// Quote is the currency every NBP rate is quoted in.
const Quote = "PLN"

// Tables are the NBP tables of average rates CES reads: A (daily) and B
// (weekly). Table C (buy/sell for banks) holds no other currencies.
var Tables = []string{"A", "B"}

// maxDays is the longest range the API serves in one request (93 days,
// both ends included); longer ranges are answered with HTTP 400.
const maxDays = 93

var warsaw = mustLoad("Europe/Warsaw")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a table's effective date: 12:15
// in Warsaw (CET or CEST) on that date. NBP publishes tables A and B
// between 11:45 and 12:15 on their business day, so 12:15 is the first
// moment the day's table is surely out. The payload has a date only.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 12, 15, 0, 0, warsaw).UTC()
}

// table is one published table; mid stays a json.Number so its digits are
// kept exactly (never a float64).
type table struct {
	Table         string `json:"table"`
	No            string `json:"no"`
	EffectiveDate string `json:"effectiveDate"`
	Rates         []struct {
		Currency string      `json:"currency"`
		Code     string      `json:"code"`
		Mid      json.Number `json:"mid"`
	} `json:"rates"`
}

// Parse reads an API answer (a JSON array of tables, as /exchangerates/
// tables/{A|B}/ returns) into one RateSet per (effective date, currency),
// oldest date first and, within a date, by Base. Codes that are no ISO
// 4217 currency are recorded in Skipped of their date's first set. name
// names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var tables []table
	if err := dec.Decode(&tables); err != nil {
		return nil, provider.Invalid("provider %s: not a JSON array of tables: %v", name, err)
	}
	if len(tables) == 0 {
		return nil, provider.Invalid("provider %s: payload has no tables", name)
	}
	seen := map[string]bool{}
	var sets []fx.RateSet
	for i, t := range tables {
		day, err := time.Parse(time.DateOnly, t.EffectiveDate)
		if err != nil {
			return nil, provider.Invalid("provider %s: table %d: effective date %q is not YYYY-MM-DD", name, i, t.EffectiveDate)
		}
		key := t.Table + " " + t.EffectiveDate
		if seen[key] {
			return nil, provider.Invalid("provider %s: table %s of %s appears twice", name, t.Table, t.EffectiveDate)
		}
		seen[key] = true
		rates := make([]provider.Foreign, 0, len(t.Rates))
		for _, r := range t.Rates {
			rates = append(rates, provider.Foreign{Code: r.Code, Value: r.Mid.String(), Units: 1})
		}
		published, err := provider.ForeignSets(name, Quote, PublicationTime(day), payload, rates)
		if err != nil {
			return nil, fmt.Errorf("%w (table %s)", err, t.No)
		}
		sets = append(sets, published...)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// Client fetches NBP tables over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the current table A and the current table B, one set per
// currency, sorted by Base. Table B is weekly, so its as_of is usually
// older than table A's: each set carries its own table's date.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	var out []fx.RateSet
	for _, t := range Tables {
		sets, err := c.get(ctx, "/exchangerates/tables/"+t+"/")
		if err != nil {
			return nil, err
		}
		out = append(out, provider.Newest(sets)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out, nil
}

// History returns the sets of tables A and B dated from to to (inclusive),
// oldest first and, within a date, by Base: two requests (one per table)
// per 93 days of range, the longest the API serves at once. A range with
// no table (a holiday week, a weekend) is empty, not an error.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	for start, end := provider.Date(from), provider.Date(to); !start.After(end); start = start.AddDate(0, 0, maxDays) {
		stop := start.AddDate(0, 0, maxDays-1)
		if stop.After(end) {
			stop = end
		}
		for _, t := range Tables {
			path := fmt.Sprintf("/exchangerates/tables/%s/%s/%s/", t, start.Format(time.DateOnly), stop.Format(time.DateOnly))
			sets, err := c.get(ctx, path)
			var pe *provider.PermanentError
			if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
				continue // NBP answers 404 for a range without a table
			}
			if err != nil {
				return nil, err
			}
			all = append(all, sets...)
		}
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, path string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?format=json")
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
