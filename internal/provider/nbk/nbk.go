// Package nbk reads the National Bank of Kazakhstan's official (market)
// tenge exchange rates from its RSS-style XML service get_rates.cfm: tenge
// per 1, 10, 100 or 1000 units (the item's "quant") of about forty foreign
// currencies and the SDR, one publication per Kazakh business day, one
// date per request, no API key. The NBK names no terms of use; its site
// is https://nationalbank.kz.
package nbk

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
	_ "time/tzdata" // the publication time is Almaty local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBK rate.
const Name = "nbk"

// DefaultBaseURL is the root of the NBK's site, which serves /rss/get_rates.cfm.
const DefaultBaseURL = "https://nationalbank.kz"

// Quote is the currency every NBK rate is quoted in: a set's Base is the
// foreign currency and its single rate is the tenge price of one unit.
const Quote = "KZT"

// almaty is Kazakhstan's zone (UTC+5 since March 2024, UTC+6 before); the
// tz database knows the change, a fixed offset would not.
var almaty = mustLoad("Asia/Almaty")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives the NBK rates of a date: 18:00 in
// Almaty on that date. The payload carries a date and no time; the close
// of the Almaty business day is no earlier than the rates could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, almaty).UTC()
}

type document struct {
	XMLName xml.Name `xml:"rates"`
	Date    string   `xml:"date"`
	Items   []struct {
		Code  string `xml:"title"`
		Rate  string `xml:"description"`
		Quant string `xml:"quant"`
	} `xml:"item"`
}

// Parse reads one get_rates.cfm document into one RateSet per foreign
// currency, sorted by Base: its one rate is tenge per unit (the item's
// rate divided exactly by its quant, every digit kept), as_of is
// PublicationTime of the document's date. Codes that are no ISO currency
// are recorded in Skipped of the first set. A document with a date and no
// item (a day without rates) yields no set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var doc document
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&doc); err != nil {
		return nil, invalid("not the rates XML: %v", err)
	}
	day, err := time.Parse("02.01.2006", strings.TrimSpace(doc.Date))
	if err != nil {
		return nil, invalid("date %q is not DD.MM.YYYY", doc.Date)
	}
	if len(doc.Items) == 0 {
		return nil, nil
	}
	asOf := PublicationTime(day)
	var sets []fx.RateSet
	var skipped []string
	seen := map[string]bool{}
	for _, it := range doc.Items {
		code := strings.TrimSpace(it.Code)
		if _, ok := fx.LookupCurrency(code); !ok {
			if code == "" {
				return nil, invalid("an item of %s has no currency code", doc.Date)
			}
			skipped = append(skipped, code)
			continue
		}
		if seen[code] {
			return nil, invalid("%s appears twice on %s", code, doc.Date)
		}
		seen[code] = true
		value, err := perUnit(it.Rate, it.Quant)
		if err != nil {
			return nil, invalid("%s on %s: %v", code, doc.Date, err)
		}
		b, err := provider.NewBuilder(Name, code, asOf, payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, value); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, doc.Date)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, invalid("%s has no usable rates (only %s)", doc.Date, strings.Join(skipped, ", "))
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, nil
}

// perUnit divides a rate quoted per units (1, 10, 100, 1000, ...) exactly,
// by moving the decimal point, and writes it with every digit kept.
func perUnit(rate, units string) (string, error) {
	v, err := decimal.NewFromString(strings.TrimSpace(rate))
	if err != nil {
		return "", fmt.Errorf("rate %q is not a number", rate)
	}
	u := strings.TrimSpace(units)
	if u == "" || u[0] != '1' || strings.Trim(u[1:], "0") != "" {
		return "", fmt.Errorf("quant %q is not 1, 10, 100, ...", units)
	}
	return fx.Exact(v.Shift(-int32(len(u) - 1))), nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NBK rates over HTTP (or from a file URL, see provider.Get).
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

// latestTries bounds how many days back Latest looks for a date with
// rates: a week covers weekends and Kazakh holidays.
const latestTries = 7

// Latest returns the newest publication: one set per foreign currency,
// asking for today's Almaty date, then the days before it, until one has
// rates.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(almaty))
	for i := 0; i < latestTries; i++ {
		sets, err := c.get(ctx, today.AddDate(0, 0, -i))
		if err != nil {
			return nil, err
		}
		if len(sets) > 0 {
			return sets, nil
		}
	}
	return nil, provider.Permanent(provider.TypeNoRatesForDate,
		fmt.Errorf("provider %s: no rates in the %d days to %s", Name, latestTries, today.Format(time.DateOnly)))
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per weekday of the range: the
// NBK serves one date per request and sets no rates on weekends.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	return provider.Weekdays(ctx, Name, from, to, c.get)
}

func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("fdate", day.Format("02.01.2006"))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/rss/get_rates.cfm?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
