// Package amcm reads the Autoridade Monetária de Macau's interbank middle
// rates from the JSON API behind its financial-information pages
// (https://www.amcm.gov.mo/api/v1.0/cms/financial_info, keyless; the AMCM
// names no terms for it), which serves a range of dates in one request.
// Each Macau business day the AMCM publishes, per foreign currency, the
// patacas that "unit" units of it cost, in a field named usdMean despite
// holding MOP (USD 8.0705, HKD 1.0300, JPY and KRW per 100 units). Each
// becomes a set with Base = that currency and one rate Quote = MOP, per
// single unit (a per-100 value is shifted exactly). The "bid" field beside
// it is the currency's cross against the US dollar, not read. A row with
// unit 0 (LIQ, the patacas' liquidity figure, not a currency) is skipped.
package amcm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every AMCM rate.
const Name = "amcm"

// DefaultBaseURL is the root of the AMCM's API.
const DefaultBaseURL = "https://www.amcm.gov.mo/api/v1.0"

// Home is Macau's currency, the quote of every rate.
const Home = "MOP"

const infoPath = "/cms/financial_info"

// macau is Macau time, UTC+8 all year (no daylight saving), so a fixed
// zone is exact and needs no tzdata.
var macau = time.FixedZone("CST", 8*60*60)

// PublicationTime is the as_of CES gives an AMCM rate date: 11:00 in
// Macau, 03:00 UTC. The rows carry a date and no time and the AMCM states
// no hour; the catalogue polls from 03:00 UTC, the start of the window
// the publisher's metadata gives for the day's rates.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 11, 0, 0, 0, macau).UTC()
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// row is one rate of the API's data array.
type row struct {
	Date     string      `json:"date"`
	Currency string      `json:"currency"`
	Unit     json.Number `json:"unit"`
	Mean     *string     `json:"usdMean"`
}

// Parse reads the API's answer into the sets of each date, oldest date
// first and, within a date, by Base.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var answer struct {
		Data *[]row `json:"data"`
	}
	if err := json.Unmarshal(payload, &answer); err != nil {
		return nil, invalid("not the rates answer: %v", err)
	}
	if answer.Data == nil {
		return nil, invalid("the answer has no data array")
	}
	days := map[time.Time][]provider.Foreign{}
	for i, r := range *answer.Data {
		day, err := time.Parse(time.DateTime, strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("row %d: date %q is not yyyy-mm-dd hh:mm:ss", i, r.Date)
		}
		if r.Mean == nil || r.Unit == "" {
			return nil, invalid("row %d (%s): no usdMean or unit", i, r.Currency)
		}
		f := provider.Foreign{Code: r.Currency, Value: *r.Mean}
		units, err := decimal.NewFromString(r.Unit.String())
		switch {
		case err != nil || !units.IsInteger() || units.IsNegative():
			return nil, invalid("row %d (%s): unit %q is not a whole number", i, r.Currency, r.Unit)
		case units.IsZero():
			f.Skip = true // LIQ: a figure with no unit, not a rate
		default:
			f.Units = units.IntPart()
		}
		days[day] = append(days[day], f)
	}
	if len(days) == 0 {
		return nil, nil
	}
	dates := make([]time.Time, 0, len(days))
	for d := range days {
		dates = append(dates, d)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	var sets []fx.RateSet
	for _, d := range dates {
		published, err := provider.ForeignSets(Name, Home, PublicationTime(d), payload, days[d])
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	return sets, nil
}

// Client fetches the AMCM's rates over HTTP (or from a file URL, see
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

// latestWindow is how far back Latest looks: longer than any run of Macau
// holidays and weekend (Chinese New Year, Golden Week).
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest date of the last two weeks, from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(macau)
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
// within a date, by Base, from one request: the API serves a range.
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

func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	q := url.Values{
		"Begin":     {from.Format("20060102")},
		"End":       {to.Format("20060102")},
		"QueryType": {"1"},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+infoPath+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
