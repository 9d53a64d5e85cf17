// Package bnrrw reads the Banque Nationale du Rwanda's reference exchange
// rates from its rates service (https://fxrates.bnr.rw, keyless; terms at
// https://www.bnr.rw/statuse), which answers one currency's history over
// a range of dates per request. Each Rwandan business day the BNR
// publishes, per currency, a buying, a selling and an average rate, in
// Rwandan francs per 1 unit (JPY, UGX, TZS and BIF per single unit too);
// the average, the BNR's own reference rate (the middle of the other two,
// rounded by the BNR to its six places), is read as published rather than
// recomputed, and becomes a set with Base = that currency and one rate
// Quote = RWF. The service has no list of currencies, so the adapter asks
// for the 16 it answered for when recorded (Currencies): one request per
// currency for any range, 16 in all.
package bnrrw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BNR rate.
const Name = "bnrrw"

// DefaultBaseURL is the root of the BNR's rates service.
const DefaultBaseURL = "https://fxrates.bnr.rw"

// Home is Rwanda's currency, the quote of every rate.
const Home = "RWF"

const historyPath = "/currency_history/"

// Currencies are the codes the BNR publishes a reference rate of, those
// its service answered for when recorded, in the recording's order.
var Currencies = []string{
	"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY",
	"INR", "ZAR", "AED", "SAR", "KES", "UGX", "TZS", "BIF",
}

// kigali is Central Africa Time, UTC+2 all year (no daylight saving), so
// a fixed zone is exact and needs no tzdata.
var kigali = time.FixedZone("CAT", 2*60*60)

// PublicationTime is the as_of CES gives a BNR rate date: 16:00 in
// Kigali, 14:00 UTC, when the catalogue's polling window opens. The rows
// carry a date and no time, and the BNR states no hour.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, kigali).UTC()
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Rate is one row of a currency's history: its average rate on Day.
type Rate struct {
	Day  time.Time
	Rate provider.Foreign
}

// Parse reads one currency's history, the answer asked for code, into its
// rows. A row of another currency, a date not written dd-Mon-yy, or a
// missing average makes the answer invalid.
func Parse(code string, payload []byte) ([]Rate, error) {
	var rows []struct {
		Currency string  `json:"currency_name"`
		Average  *string `json:"average_rate"`
		Date     string  `json:"post_date"`
	}
	if err := json.Unmarshal(payload, &rows); err != nil {
		return nil, invalid("%s: not a rate history: %v", code, err)
	}
	out := make([]Rate, 0, len(rows))
	for i, r := range rows {
		if !strings.EqualFold(strings.TrimSpace(r.Currency), code) {
			return nil, invalid("%s: row %d is of %q", code, i, r.Currency)
		}
		day, err := time.Parse("02-Jan-06", strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("%s: row %d: post_date %q is not dd-Mon-yy", code, i, r.Date)
		}
		if r.Average == nil {
			return nil, invalid("%s: row %d (%s) has no average_rate", code, i, r.Date)
		}
		out = append(out, Rate{Day: day, Rate: provider.Foreign{Code: code, Value: *r.Average}})
	}
	return out, nil
}

// Sets groups the rows of every currency by date into the sets of each
// date, oldest date first and, within a date, by Base. payload is what
// the sets' hash is taken of: the answers they were read from.
func Sets(rates []Rate, payload []byte) ([]fx.RateSet, error) {
	days := map[time.Time][]provider.Foreign{}
	var order []time.Time
	for _, r := range rates {
		if _, ok := days[r.Day]; !ok {
			order = append(order, r.Day)
		}
		days[r.Day] = append(days[r.Day], r.Rate)
	}
	var sets []fx.RateSet
	for _, d := range order {
		published, err := provider.ForeignSets(Name, Home, PublicationTime(d), payload, days[d])
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// Client fetches the BNR's rate histories over HTTP (or from a file URL,
// see provider.Get).
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
// Rwandan holidays and weekend (the commemoration week in April).
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest date of the last two weeks: the sets of the
// currencies published that date.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(kigali)
	sets, err := c.get(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last two weeks")
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request per currency.
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

// get asks each currency's history from from to to and groups the rows.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	var rates []Rate
	var payloads [][]byte
	for _, code := range Currencies {
		q := url.Values{
			"currency_name": {code},
			"start_date":    {from.Format(time.DateOnly)},
			"end_date":      {to.Format(time.DateOnly)},
		}
		body, err := provider.Get(ctx, c.http, Name, c.baseURL+historyPath+"?"+q.Encode())
		if err != nil {
			var pe *provider.PermanentError
			if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
				// One endpoint serves every range: a 404 means a wrong base URL.
				return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
			}
			return nil, err
		}
		parsed, err := Parse(code, body)
		if err != nil {
			return nil, err
		}
		rates = append(rates, parsed...)
		payloads = append(payloads, body)
	}
	return Sets(rates, bytes.Join(payloads, []byte("\n")))
}
