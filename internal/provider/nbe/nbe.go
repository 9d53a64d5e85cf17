// Package nbe reads the National Bank of Ethiopia's exchange rates from
// the API behind its rates page (https://nbe.gov.et/exchange-rate/;
// https://api.nbe.gov.et/api/filter-exchange-rates?date=YYYY-MM-DD,
// keyless, one date per request; the NBE names no terms for it). For each
// Ethiopian business day the NBE publishes, per foreign currency, a
// buying, a selling and a weighted average rate in birr per 1 unit; CES
// keeps the weighted average, the NBE's own reference (not the middle of
// buying and selling, which it need not equal): one set per currency with
// Base = that currency and one rate Quote = ETB, never inverted.
package nbe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBE rate.
const Name = "nbe"

// DefaultBaseURL is the root of the NBE's API.
const DefaultBaseURL = "https://api.nbe.gov.et/api"

// Quote is Ethiopia's currency, the quote of every NBE rate.
const Quote = "ETB"

// latestDays bounds how far back Latest looks for the newest date.
const latestDays = 7

// addisAbaba is East Africa Time, UTC+3 all year (no daylight saving), so
// a fixed zone is exact and needs no tzdata.
var addisAbaba = time.FixedZone("EAT", 3*60*60)

// PublicationTime is the as_of CES gives an NBE rate date: 13:00 in Addis
// Ababa on that date, 10:00 UTC, the first poll of its publication
// window. The rows have a date and no time and the NBE states no
// publication hour.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 13, 0, 0, 0, addisAbaba).UTC()
}

// Parse reads one date's answer into one set per foreign currency, by
// Base. An answer without rows has none (no publication that date); rows
// of more than one date make it invalid.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var a struct {
		Success bool `json:"success"`
		Data    *[]struct {
			Date            string `json:"date"`
			WeightedAverage string `json:"weighted_average"`
			Currency        struct {
				Code string `json:"code"`
			} `json:"currency"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &a); err != nil {
		return nil, invalid("not the exchange rates JSON: %v", err)
	}
	if !a.Success || a.Data == nil {
		return nil, invalid("the answer is not a successful one with data")
	}
	if len(*a.Data) == 0 {
		return nil, nil
	}
	date := (*a.Data)[0].Date
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, invalid("date %q is not YYYY-MM-DD", date)
	}
	rates := make([]provider.Foreign, 0, len(*a.Data))
	for _, r := range *a.Data {
		if r.Date != date {
			return nil, invalid("one answer holds %s and %s", date, r.Date)
		}
		rates = append(rates, provider.Foreign{Code: r.Currency.Code, Value: r.WeightedAverage})
	}
	return provider.ForeignSets(Name, Quote, PublicationTime(day), payload, rates)
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NBE rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest date's sets, by Base: it asks for today
// (Addis Ababa), then each day before it, up to a week back, until a date
// has rates.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(addisAbaba))
	for i := 0; i < latestDays; i++ {
		sets, err := c.get(ctx, today.AddDate(0, 0, -i))
		if err != nil {
			return nil, err
		}
		if len(sets) > 0 {
			return sets, nil
		}
	}
	return nil, provider.Permanent(provider.TypeNoRatesForDate,
		fmt.Errorf("provider %s: no rates in the week to %s", Name, today.Format(time.DateOnly)))
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: one request per weekday of the range (the NBE
// publishes Monday to Friday). A date without rates is skipped.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	return provider.Weekdays(ctx, Name, from, to, c.get)
}

// get asks for one date's rates; a 404 is a date without rates.
func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("date", day.Format(time.DateOnly))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/filter-exchange-rates?"+q.Encode())
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			return nil, nil
		}
		return nil, err
	}
	return Parse(body)
}
