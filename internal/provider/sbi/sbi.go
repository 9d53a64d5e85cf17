// Package sbi reads the Central Bank of Iceland's (Seðlabanki Íslands)
// official middle rates from its XML time series service
// (xmltimeseries/Default.aspx): group 9, the official reference rates
// (opinbert viðmiðunargengi) of ten major currencies, and group 7, the
// middle rates (skráð miðgengi) of about twenty more. Every value is the
// Icelandic krónur one unit of the foreign currency is worth (JPY 0.783,
// USD 124.44), one per Icelandic business day. Keyless; the Bank states no
// terms of use for the service.
//
// The service names series by number and in Icelandic only, so the
// adapter carries the map from series number to ISO code (series lists
// it); it reads only those series, middle rates, and names any other
// series that has data in Skipped. Each rate becomes a set whose Base is
// the foreign currency and whose one rate is the ISK price of one unit,
// as published: never inverted.
package sbi

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Central Bank of Iceland rate.
const Name = "sbi"

// DefaultBaseURL is the root of the Bank's XML time series service.
const DefaultBaseURL = "https://sedlabanki.is/xmltimeseries"

// Quote is the currency every rate is quoted in.
const Quote = "ISK"

// groups are the series groups History and Latest request: 9, the official
// reference rates, and 7, the other currencies' middle rates.
var groups = []string{"9", "7"}

// series maps the number of each middle-rate series to its currency, from
// the series' Icelandic descriptions ("Bandaríkjadalur, skráð miðgengi."
// is the US dollar's middle rate). The buying and selling series of group
// 9 are empty today and not read.
var series = map[string]string{
	// Group 9.
	"4055": "USD", "4061": "DKK", "4064": "EUR", "4085": "JPY", "4088": "CAD",
	"4091": "NOK", "4097": "XDR", "4103": "GBP", "4106": "CHF", "4109": "SEK",
	// Group 7.
	"29": "CNY", "30": "RUB", "31": "PLN", "35": "NGN", "36": "TWD", "37": "KRW",
	"38": "SRD", "39": "AUD", "40": "NZD", "41": "HKD", "42": "HUF", "43": "ILS",
	"44": "ZAR", "45": "SGD", "46": "MXN", "48": "TRY", "50": "INR", "52": "CZK",
	"53": "BRL", "74": "THB", "288": "JMD", "3503": "SAR", "19254": "KWD",
}

// PublicationTime is the as_of CES gives a rate date: 16:00 on that date
// in Reykjavík, which keeps UTC all year. The service gives dates only;
// the Bank's rates of the day are out by then (the recorded publication
// schedule polls from 16:00 UTC), so the rate is never claimed earlier
// than it was known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, time.UTC)
}

type group struct {
	XMLName xml.Name `xml:"Group"`
	ID      string   `xml:"ID,attr"`
	Series  []struct {
		ID          string `xml:"ID,attr"`
		Description string `xml:"Description"`
		Entries     []struct {
			Date  string `xml:"Date"`
			Value string `xml:"Value"`
		} `xml:"TimeSeriesData>Entry"`
	} `xml:"TimeSeries"`
}

// values collects one or more groups' answers: date -> code -> rate text.
type values struct {
	rates   map[string]map[string]string
	days    map[string]time.Time
	skipped []string
}

// add reads one group answer into v.
func (v *values) add(payload []byte) error {
	var g group
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&g); err != nil {
		return invalid("not a time series answer: %v", err)
	}
	if g.ID == "" {
		return invalid("answer names no series group")
	}
	for _, s := range g.Series {
		if len(s.Entries) == 0 {
			continue
		}
		code, ok := series[s.ID]
		if !ok {
			v.skipped = append(v.skipped, "series "+s.ID)
			continue
		}
		if !strings.Contains(s.Description, "miðgengi") {
			return invalid("series %s (%s) is no longer a middle rate: %q", s.ID, code, s.Description)
		}
		for _, e := range s.Entries {
			// "3/24/2026 12:00:00 AM": a date, the time always midnight.
			day, err := time.Parse("1/2/2006 3:04:05 PM", strings.TrimSpace(e.Date))
			if err != nil || day.Hour() != 0 || day.Minute() != 0 {
				return invalid("series %s: date %q is not M/D/YYYY 12:00:00 AM", s.ID, e.Date)
			}
			date := day.Format(time.DateOnly)
			if v.rates[date] == nil {
				v.rates[date] = map[string]string{}
				v.days[date] = day
			}
			if _, dup := v.rates[date][code]; dup {
				return invalid("%s on %s appears twice", code, date)
			}
			v.rates[date][code] = strings.TrimSpace(e.Value)
		}
	}
	return nil
}

// sets returns one set per (date, currency), oldest date first, then by
// Base; skipped series are named in the first set of each date.
func (v *values) sets(payload []byte) ([]fx.RateSet, error) {
	dates := make([]string, 0, len(v.rates))
	for d := range v.rates {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	sort.Strings(v.skipped)
	var out []fx.RateSet
	for _, date := range dates {
		codes := make([]string, 0, len(v.rates[date]))
		for c := range v.rates[date] {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		first := len(out)
		for _, code := range codes {
			b, err := provider.NewBuilder(Name, code, PublicationTime(v.days[date]), payload)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, v.rates[date][code]); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, code, date)
			}
			s, err := b.Build()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		out[first].Skipped = append([]string(nil), v.skipped...)
	}
	return out, nil
}

// Parse reads the answers of one or more series groups for the same
// range into one RateSet per (date, currency), oldest first, then by Base.
// The sets' payload hash covers all the answers, in order.
func Parse(payloads ...[]byte) ([]fx.RateSet, error) {
	v := values{rates: map[string]map[string]string{}, days: map[string]time.Time{}}
	for _, p := range payloads {
		if err := v.add(p); err != nil {
			return nil, err
		}
	}
	return v.sets(bytes.Join(payloads, nil))
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches the Bank's rates over HTTP (or from a file URL, see
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

// latestWindow is how far back Latest looks: long enough to span Easter
// and Christmas closures.
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest date's rates, one set per currency, from both
// groups over the last two weeks (two requests).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().UTC()
	sets, err := c.get(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last two weeks")
	}
	n := len(sets) - 1
	for n > 0 && sets[n-1].AsOf.Equal(sets[len(sets)-1].AsOf) {
		n--
	}
	return sets[n:len(sets):len(sets)], nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: one request per group for the whole range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	var bodies [][]byte
	for _, g := range groups {
		q := url.Values{
			"DagsFra": {provider.Date(from).Format(time.DateOnly)},
			"DagsTil": {provider.Date(to).Format(time.DateOnly)},
			"GroupID": {g},
			"Type":    {"xml"},
		}
		body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/Default.aspx?"+q.Encode())
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, body)
	}
	return Parse(bodies...)
}
