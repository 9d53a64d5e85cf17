// Package boc reads the Bank of Canada's daily exchange rates from its
// Valet API: the FX_RATES_DAILY group, one series per foreign currency
// (FXUSDCAD, FXEURCAD, ...), each observation the Canadian dollars that one
// unit of the foreign currency is worth (an indicative daily average, not
// a rate the Bank deals at). The Bank publishes once per Canadian business
// day by 16:30 Eastern time. The API is keyless; its terms of use are at
// https://www.bankofcanada.ca/terms/.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the CAD price of one unit, as published: CES never inverts it.
package boc

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
	_ "time/tzdata" // the publication time is Ottawa local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Bank of Canada rate.
const Name = "boc"

// DefaultBaseURL is the root of the Bank of Canada's Valet API.
const DefaultBaseURL = "https://www.bankofcanada.ca/valet"

// Quote is the currency every Bank of Canada rate is quoted in.
const Quote = "CAD"

// group is the Valet series group of the daily exchange rates.
const group = "FX_RATES_DAILY"

var toronto = mustLoad("America/Toronto")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a Bank of Canada rate date:
// 16:30 Eastern time (EST or EDT, hence the zone database rather than a
// fixed offset) on that date. The group's own description says the rates
// are "published once each business day by 16:30 ET", so the rate is
// known by then and never claimed earlier.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 30, 0, 0, toronto).UTC()
}

type document struct {
	SeriesDetail map[string]json.RawMessage   `json:"seriesDetail"`
	Observations []map[string]json.RawMessage `json:"observations"`
}

// value reads an observation's {"v": "..."} as text; a JSON number is
// kept as its text, never through float64. ok is false when v is absent
// or null (no observation of that series that day).
func value(raw json.RawMessage) (string, bool, error) {
	var obs struct {
		V json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(raw, &obs); err != nil {
		return "", false, err
	}
	v := bytes.TrimSpace(obs.V)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false, nil
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		return string(v), true, nil
	default:
		return "", false, errors.New("v is neither a string nor a number")
	}
}

// seriesCode returns the foreign currency of a series key FX<code>CAD.
func seriesCode(key string) (string, bool) {
	if len(key) != 8 || !strings.HasPrefix(key, "FX") || !strings.HasSuffix(key, Quote) {
		return "", false
	}
	return key[2:5], true
}

// Parse reads a Valet FX_RATES_DAILY observations document into one
// RateSet per (date, foreign currency): Base is the currency, its one rate
// is the CAD value of one unit with the payload's digits, as_of is
// PublicationTime of the date. Sets come newest first, then by Base. A
// series whose code is no ISO 4217 currency is named in Skipped of the
// first set of its date. A document with no observations yields no sets
// (Valet answers so for a range without business days); one without the
// observations array at all is invalid.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var doc document
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, invalid("not a Valet JSON document: %v", err)
	}
	if doc.Observations == nil || doc.SeriesDetail == nil {
		return nil, invalid("Valet document has no seriesDetail or observations")
	}
	var sets []fx.RateSet
	seen := map[string]bool{}
	for i, obs := range doc.Observations {
		var date string
		if err := json.Unmarshal(obs["d"], &date); err != nil {
			return nil, invalid("observation %d has no date", i)
		}
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, invalid("observation %d: date %q is not YYYY-MM-DD", i, date)
		}
		if seen[date] {
			return nil, invalid("date %s appears twice", date)
		}
		seen[date] = true
		var day0 []fx.RateSet
		var skipped []string
		for key, raw := range obs {
			if key == "d" {
				continue
			}
			code, ok := seriesCode(key)
			if !ok {
				continue // another kind of series; the group holds only FX<code>CAD today
			}
			v, ok, err := value(raw)
			if err != nil {
				return nil, invalid("%s on %s: %v", key, date, err)
			}
			if !ok {
				continue
			}
			if _, iso := fx.LookupCurrency(code); !iso {
				skipped = append(skipped, code)
				continue
			}
			b, err := provider.NewBuilder(Name, code, PublicationTime(day), payload)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, v); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, code, date)
			}
			set, err := b.Build()
			if err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, code, date)
			}
			day0 = append(day0, set)
		}
		if len(day0) == 0 {
			return nil, invalid("%s has no usable rates", date)
		}
		sort.Slice(day0, func(i, j int) bool { return day0[i].Base < day0[j].Base })
		sort.Strings(skipped)
		day0[0].Skipped = skipped
		sets = append(sets, day0...)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.After(sets[j].AsOf) })
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches Bank of Canada rates over HTTP (or from a file URL, see
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

// Latest returns the newest publication, one set per foreign currency,
// asking Valet for the most recent observation of each series.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, url.Values{"recent": {"1"}})
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("the latest observations are empty")
	}
	return newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request: Valet serves a date range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, url.Values{
		"start_date": {provider.Date(from).Format(time.DateOnly)},
		"end_date":   {provider.Date(to).Format(time.DateOnly)},
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
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/observations/group/"+group+"/json?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
