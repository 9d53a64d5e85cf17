// Package cbm reads the Central Bank of Myanmar's reference exchange rates
// from its forex API (https://forex.cbm.gov.mm/api/latest, and
// /api/history/DD-MM-YYYY for one past date; keyless, the CBM names no
// terms for it). Each Myanmar business day the CBM publishes kyat per
// unit of about forty foreign currencies, as text that may group
// thousands with commas: per 1 unit, but per 100 units of the six whose
// unit is worth little (JPY, KRW, IDR, KHR, VND, LAK; the API does not say
// so, its values do: "JPY":"1321.88" beside "USD":"2100.00" is 1321.88
// kyat per 100 yen, USD/JPY ≈ 159). Each becomes a set with Base = that
// currency and one rate Quote = MMK, per single unit, never inverted.
package cbm

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBM rate.
const Name = "cbm"

// DefaultBaseURL is the root of the CBM's forex API.
const DefaultBaseURL = "https://forex.cbm.gov.mm/api"

// Quote is Myanmar's currency, the quote of every CBM rate.
const Quote = "MMK"

// yangon is Myanmar Time, UTC+6:30 all year (no daylight saving), so a
// fixed zone is exact and needs no tzdata.
var yangon = time.FixedZone("MMT", 6*60*60+30*60)

// PublicationTime is the as_of CES gives a CBM rate date: 10:30 in Yangon
// on that date, 04:00 UTC, the first poll of the CBM's publication
// window. The answer's timestamp names the date but not when the rates
// were set (the recorded one, 08:00 UTC, is after the answer was
// recorded), so only its Yangon date is kept.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 10, 30, 0, 0, yangon).UTC()
}

// perHundred are the currencies the CBM quotes per 100 units.
var perHundred = map[string]bool{"JPY": true, "KRW": true, "IDR": true, "KHR": true, "VND": true, "LAK": true}

// grouped is a rate as the CBM writes it: digits, optionally grouped by
// commas in threes, an optional fraction.
var grouped = regexp.MustCompile(`^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]+)?$`)

// Parse reads one answer of the API (latest or history) into one set per
// foreign currency, by Base, dated by the Yangon date of its timestamp.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var a struct {
		Timestamp json.RawMessage    `json:"timestamp"`
		Rates     *map[string]string `json:"rates"`
	}
	if err := json.Unmarshal(payload, &a); err != nil {
		return nil, invalid("not the rates JSON: %v", err)
	}
	if a.Rates == nil || len(a.Timestamp) == 0 {
		return nil, invalid("the answer has no timestamp or no rates")
	}
	stamp := strings.Trim(string(a.Timestamp), `"`)
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || secs <= 0 {
		return nil, invalid("timestamp %s is not Unix seconds", a.Timestamp)
	}
	asOf := PublicationTime(provider.Date(time.Unix(secs, 0).In(yangon)))
	rates := make([]provider.Foreign, 0, len(*a.Rates))
	for code, text := range *a.Rates {
		text = strings.TrimSpace(text)
		if !grouped.MatchString(text) {
			return nil, invalid("%s: %q is not a rate", code, text)
		}
		f := provider.Foreign{Code: code, Value: strings.ReplaceAll(text, ",", "")}
		if perHundred[strings.ToUpper(strings.TrimSpace(code))] {
			f.Units = 100
		}
		rates = append(rates, f)
	}
	return provider.ForeignSets(Name, Quote, asOf, payload, rates)
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches CBM rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest publication, one set per foreign currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	return c.get(ctx, c.baseURL+"/latest")
}

// History returns the publications dated from to to (inclusive), oldest
// first and, within one, by Base: one request per weekday of the range.
// An answer dated another day (the CBM repeating its last rates for a
// holiday) is kept only within the range and only once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	return provider.Weekdays(ctx, Name, from, to, func(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
		return c.get(ctx, c.baseURL+"/history/"+day.Format("02-01-2006"))
	})
}

func (c *Client) get(ctx context.Context, u string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, u)
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
