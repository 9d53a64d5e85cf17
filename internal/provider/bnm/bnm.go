// Package bnm reads Bank Negara Malaysia's exchange rates from its keyless
// open API (api.bnm.gov.my, which wants the Accept header
// application/vnd.BNM.API.v1+json): the ringgit price of 27 currencies
// at the 09:00 session of each Malaysian business day, as buying, selling
// and middle rates, per one unit (USD, EUR, GBP, ...) or per 100 units
// (JPY, IDR, KRW, THB, ...) as each row's "unit" says. CES stores the
// middle rate per ONE unit (per-100 rates shifted two places, exactly).
// The API writes rates as binary floats printed to 17 significant digits
// (4.2199999999999998 for BNM's 4.2200); provider.FloatText recovers the
// decimal BNM meant. No terms-of-use URL is recorded for it (the
// publisher metadata has none).
package bnm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BNM rate.
const Name = "bnm"

// DefaultBaseURL is the root of BNM's public API.
const DefaultBaseURL = "https://api.bnm.gov.my/public"

// Quote is the currency every BNM rate is quoted in: a set's Base is the
// foreign currency and its single rate the ringgit price of one unit.
const Quote = "MYR"

// accept is the media type BNM's API requires of every request.
const accept = "application/vnd.BNM.API.v1+json"

// session is the rate session CES reads: the 09:00 one, the first of the
// day.
const session = "0900"

// Currencies are the codes the API quotes (its latest list), asked one
// by one for history. SDR is BNM's name for the IMF's XDR.
var Currencies = []string{
	"AED", "AUD", "BND", "CAD", "CHF", "CNY", "EGP", "EUR", "GBP", "HKD", "IDR", "INR", "JPY", "KHR",
	"KRW", "MMK", "NPR", "NZD", "PHP", "PKR", "SAR", "SDR", "SGD", "THB", "TWD", "USD", "VND",
}

// codes maps BNM's non-ISO currency codes to ISO 4217.
var codes = map[string]string{"SDR": "XDR"}

// kualaLumpur is Malaysia Time, UTC+8 all year, so a fixed zone is exact.
var kualaLumpur = time.FixedZone("MYT", 8*60*60)

// PublicationTime is the as_of CES gives a BNM rate date: 17:00 in Kuala
// Lumpur (09:00 UTC), the close of the business day. The payload has the
// date and the session name but no publication instant; the end of the
// day is never earlier than the 09:00 rates could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, kualaLumpur).UTC()
}

type rate struct {
	Date   string      `json:"date"`
	Middle json.Number `json:"middle_rate"`
}

type quote struct {
	Code string          `json:"currency_code"`
	Unit json.Number     `json:"unit"`
	Rate json.RawMessage `json:"rate"`
}

type envelope struct {
	Data json.RawMessage `json:"data"`
	Meta *struct {
		Quote   string `json:"quote"`
		Session string `json:"session"`
	} `json:"meta"`
}

// Parse reads either answer of the API, the latest rates of every
// currency (data is a list, one rate each) or one currency's month (data
// is one object, a list of rates), into one RateSet per (date, currency),
// oldest first and, within a date, by Base: the middle rate per one unit
// against MYR, as_of PublicationTime of the date. Codes that are not ISO
// 4217 after mapping (SDR is XDR) are skipped. A currency with no rate on
// a date (null middle) is left out of that date.
func Parse(name string, body []byte) ([]fx.RateSet, error) {
	var env envelope
	if err := unmarshal(body, &env); err != nil {
		return nil, provider.Invalid("provider %s: not a BNM API answer: %v", name, err)
	}
	if env.Meta == nil || len(env.Data) == 0 {
		return nil, provider.Invalid("provider %s: answer has no data or meta", name)
	}
	if !strings.EqualFold(env.Meta.Quote, "rm") {
		return nil, provider.Invalid("provider %s: rates are quoted in %q, not ringgit", name, env.Meta.Quote)
	}
	if env.Meta.Session != session {
		return nil, provider.Invalid("provider %s: answer is of session %q, not %s", name, env.Meta.Session, session)
	}
	var quotes []quote
	switch data := bytes.TrimSpace(env.Data); data[0] {
	case '[':
		err := unmarshal(data, &quotes)
		if err != nil {
			return nil, provider.Invalid("provider %s: data list: %v", name, err)
		}
	case '{':
		var q quote
		if err := unmarshal(data, &q); err != nil {
			return nil, provider.Invalid("provider %s: data: %v", name, err)
		}
		quotes = []quote{q}
	default:
		return nil, provider.Invalid("provider %s: data is neither a list nor an object", name)
	}

	var sets []fx.RateSet
	for _, q := range quotes {
		code := strings.TrimSpace(q.Code)
		if iso, ok := codes[code]; ok {
			code = iso
		}
		if _, ok := fx.LookupCurrency(code); !ok {
			continue
		}
		shift, err := unitShift(q.Unit.String())
		if err != nil {
			return nil, provider.Invalid("provider %s: %s: %v", name, q.Code, err)
		}
		var rates []rate
		if r := bytes.TrimSpace(q.Rate); len(r) > 0 && r[0] == '[' {
			err = unmarshal(r, &rates)
		} else {
			rates = make([]rate, 1)
			err = unmarshal(r, &rates[0])
		}
		if err != nil {
			return nil, provider.Invalid("provider %s: %s rates: %v", name, q.Code, err)
		}
		seen := map[string]bool{}
		for _, r := range rates {
			day, err := time.Parse(time.DateOnly, strings.TrimSpace(r.Date))
			if err != nil {
				return nil, provider.Invalid("provider %s: %s: rate date %q is not YYYY-MM-DD", name, q.Code, r.Date)
			}
			if seen[r.Date] {
				return nil, provider.Invalid("provider %s: %s appears twice on %s", name, q.Code, r.Date)
			}
			seen[r.Date] = true
			if r.Middle == "" {
				continue // no middle rate that day
			}
			v, err := provider.FloatText(r.Middle.String())
			if err != nil {
				return nil, provider.Invalid("provider %s: %s on %s: middle rate %q: %v", name, q.Code, r.Date, r.Middle, err)
			}
			b, err := provider.NewBuilder(name, code, PublicationTime(day), body)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, fx.Exact(v.Shift(shift))); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, q.Code, r.Date)
			}
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			sets = append(sets, set)
		}
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// unmarshal decodes JSON keeping numbers as text (json.Number), never
// float64.
func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// unitShift returns the decimal shift that turns a price of unit units
// into a price of one: unit must be 1, 10, 100, ...
func unitShift(unit string) (int32, error) {
	n, err := strconv.Atoi(unit)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("unit %q is not a positive integer", unit)
	}
	var shift int32
	for ; n%10 == 0; n /= 10 {
		shift--
	}
	if n != 1 {
		return 0, fmt.Errorf("unit %s is not a power of ten", unit)
	}
	return shift, nil
}

// Client fetches BNM rates over HTTP.
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty). It
// sends BNM's Accept header on every request through a copy of hc.
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = provider.NewHTTPClient(0)
	}
	withAccept := *hc
	withAccept.Transport = acceptTransport{next: hc.Transport}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: &withAccept}
}

// acceptTransport sets the Accept header BNM's API requires.
type acceptTransport struct{ next http.RoundTripper }

func (t acceptTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	r = r.Clone(r.Context())
	r.Header.Set("Accept", accept)
	return next.RoundTrip(r)
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest date's 09:00 rates, one set per currency,
// from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, c.baseURL+"/exchange-rate?session="+session)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: latest answer has no usable rates", Name)
	}
	newest := provider.Date(sets[len(sets)-1].AsOf.In(kualaLumpur))
	return provider.Between(sets, newest, newest), nil
}

// History returns the 09:00 rates dated from to to (inclusive), oldest
// first and, within a date, by Base. The API serves a month at a time,
// one currency at a time: a range costs one request per currency per
// calendar month it touches (27 for a range within a month). A month the
// API has nothing for (404) is empty, not an error.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	first, last := provider.Date(from), provider.Date(to)
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(last); m = m.AddDate(0, 1, 0) {
		for _, code := range Currencies {
			u := fmt.Sprintf("%s/exchange-rate/%s/year/%d/month/%d?session=%s", c.baseURL, code, m.Year(), int(m.Month()), session)
			sets, err := c.get(ctx, u)
			var pe *provider.PermanentError
			if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
				continue
			}
			if err != nil {
				return nil, err
			}
			all = append(all, sets...)
		}
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, u string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, u)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
