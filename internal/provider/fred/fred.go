// Package fred reads the Federal Reserve's H.10 foreign exchange rates
// (noon buying rates in New York) through the St. Louis Fed's FRED API:
// one daily series per currency, served a date range per request, with a
// free API key. The Board releases H.10 weekly, on Mondays, with the
// previous week's daily rates. Terms: https://fred.stlouisfed.org/legal/.
//
// The series named DEX<cc>US are currency units per U.S. dollar; those
// named DEXUS<cc> (AUD, EUR, NZD, GBP) are U.S. dollars per currency
// unit. CES keeps each as published: per date, one set with Base USD for
// the first kind and one set per currency of the second kind, quoted in
// USD. A value of "." is a day without a rate for that series.
package fred

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the rates are New York noon rates; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every FRED rate.
const Name = "fred"

// DefaultBaseURL is the root of the FRED API.
const DefaultBaseURL = "https://api.stlouisfed.org/fred"

// Dollar is the currency every H.10 rate is quoted against.
const Dollar = "USD"

// Series is one H.10 series: the currency it prices, and whether its
// values are dollars per unit of that currency (DEXUS<cc>) rather than
// units per dollar (DEX<cc>US).
type Series struct {
	ID           string
	Currency     string
	DollarsPerCC bool
}

// H10 lists the H.10 daily series CES reads (the Board's current table;
// discontinued series such as DEXVZUS are left out).
var H10 = []Series{
	{"DEXBZUS", "BRL", false}, {"DEXCAUS", "CAD", false}, {"DEXCHUS", "CNY", false},
	{"DEXDNUS", "DKK", false}, {"DEXHKUS", "HKD", false}, {"DEXINUS", "INR", false},
	{"DEXJPUS", "JPY", false}, {"DEXKOUS", "KRW", false}, {"DEXMAUS", "MYR", false},
	{"DEXMXUS", "MXN", false}, {"DEXNOUS", "NOK", false}, {"DEXSDUS", "SEK", false},
	{"DEXSFUS", "ZAR", false}, {"DEXSIUS", "SGD", false}, {"DEXSLUS", "LKR", false},
	{"DEXSZUS", "CHF", false}, {"DEXTAUS", "TWD", false}, {"DEXTHUS", "THB", false},
	{"DEXUSAL", "AUD", true}, {"DEXUSEU", "EUR", true}, {"DEXUSNZ", "NZD", true},
	{"DEXUSUK", "GBP", true},
}

var newYork = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives the H.10 rates of a date: 17:00
// in New York (EST or EDT) on that date, the close of the business day
// whose noon the rates were certified at. The weekly release reaches CES
// days later; as_of stamps the day the rates describe, one set per day,
// rather than the Monday of the release, which would give a week of
// different rates one instant.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, newYork).UTC()
}

type observations struct {
	Observations *[]struct {
		Date  string `json:"date"`
		Value string `json:"value"`
	} `json:"observations"`
}

// ParseSeries reads one series/observations JSON answer into its values
// by date (YYYY-MM-DD), exactly as written; "." (no rate) is left out.
func ParseSeries(id string, payload []byte) (map[string]string, error) {
	var o observations
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&o); err != nil {
		return nil, invalid("%s: not a FRED observations answer: %v", id, err)
	}
	if o.Observations == nil {
		return nil, invalid("%s: answer has no observations", id)
	}
	values := map[string]string{}
	for _, ob := range *o.Observations {
		if _, err := time.Parse(time.DateOnly, ob.Date); err != nil {
			return nil, invalid("%s: date %q is not YYYY-MM-DD", id, ob.Date)
		}
		v := strings.TrimSpace(ob.Value)
		if v == "." {
			continue
		}
		if _, dup := values[ob.Date]; dup {
			return nil, invalid("%s: %s appears twice", id, ob.Date)
		}
		values[ob.Date] = v
	}
	return values, nil
}

// Assemble turns the values of each series (by series ID, then date) into
// RateSets, newest first, then by Base: per date, the units-per-dollar
// series in one USD-based set and each dollars-per-unit series in its own
// set quoted in USD, as_of PublicationTime of the date. payload is what
// the sets' hash is computed from.
func Assemble(values map[string]map[string]string, payload []byte) ([]fx.RateSet, error) {
	builders := map[string]map[string]*provider.Builder{} // date, base
	for _, s := range H10 {
		for date, v := range values[s.ID] {
			day, err := time.Parse(time.DateOnly, date)
			if err != nil {
				return nil, invalid("%s: date %q is not YYYY-MM-DD", s.ID, date)
			}
			base, quote := Dollar, s.Currency
			if s.DollarsPerCC {
				base, quote = s.Currency, Dollar
			}
			if builders[date] == nil {
				builders[date] = map[string]*provider.Builder{}
			}
			b := builders[date][base]
			if b == nil {
				if b, err = provider.NewBuilder(Name, base, PublicationTime(day), payload); err != nil {
					return nil, err
				}
				builders[date][base] = b
			}
			if err := b.Add(quote, v); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, s.ID, date)
			}
		}
	}
	var sets []fx.RateSet
	for _, byBase := range builders {
		for _, b := range byBase {
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			sets = append(sets, set)
		}
	}
	sort.Slice(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.After(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches H.10 series from FRED over HTTP (or from a file URL, see
// provider.Get). The key travels only in the request's query string,
// which provider.Get keeps out of every error.
type Client struct {
	baseURL string
	key     string
	http    *http.Client
	now     func() time.Time
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty) that
// authenticates with the FRED API key key.
func NewClient(baseURL, key string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), key: key, http: hc, now: time.Now}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// latestWindow is how far back Latest asks: the weekly release and a
// holiday leave the newest rate up to about ten days old.
const latestWindow = 21

// Latest returns the sets of the newest date any series has a rate for,
// asking each series for the last three weeks.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(newYork))
	sets, err := c.fetch(ctx, today.AddDate(0, 0, -latestWindow), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no rates in the %d days to %s", Name, latestWindow, today.Format(time.DateOnly)))
	}
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n], nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per series (22) for the whole
// range: FRED serves a range of one series per request.
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

func (c *Client) fetch(ctx context.Context, start, end time.Time) ([]fx.RateSet, error) {
	if c.key == "" {
		return nil, provider.Permanent(provider.TypeAuthFailed, errors.New("provider fred: no API key configured"))
	}
	values := map[string]map[string]string{}
	var all bytes.Buffer // every answer, so the sets' hash covers them all
	for _, s := range H10 {
		q := url.Values{}
		q.Set("series_id", s.ID)
		q.Set("api_key", c.key)
		q.Set("file_type", "json")
		q.Set("observation_start", start.Format(time.DateOnly))
		q.Set("observation_end", end.Format(time.DateOnly))
		body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/series/observations?"+q.Encode())
		if err != nil {
			return nil, err
		}
		v, err := ParseSeries(s.ID, body)
		if err != nil {
			return nil, err
		}
		values[s.ID] = v
		all.Write(body)
	}
	return Assemble(values, all.Bytes())
}
