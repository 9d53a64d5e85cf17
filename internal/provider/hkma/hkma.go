// Package hkma reads the Hong Kong Monetary Authority's daily exchange
// rates from its Monthly Statistical Bulletin API (the er-eeri-daily
// table of https://api.hkma.gov.hk, keyless; terms at
// https://www.hkma.gov.hk/eng/disclaimer/), which serves a range of dates,
// a page of records at a time. The HKMA releases each month's table in
// the following month; each record is one day's end-of-day rates: Hong
// Kong dollars per 1 unit of each currency, written as JSON numbers (JPY
// 0.05012 and KRW 0.005433 per single unit, not per 100). A number
// printed from a binary float (usd 7.8245000000000005) is read as the
// decimal it stands for (7.8245, see provider.FloatText). Each currency
// becomes a set with Base = that currency and one rate Quote = HKD; the
// nominal effective exchange rate indices (neeri_*) are not rates and are
// not read, and currencies the table no longer fills (DEM, FRF...) are
// null and skipped.
package hkma

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every HKMA rate.
const Name = "hkma"

// DefaultBaseURL is the root of the HKMA's public API.
const DefaultBaseURL = "https://api.hkma.gov.hk/public"

// Home is Hong Kong's currency, the quote of every rate.
const Home = "HKD"

const tablePath = "/market-data-and-statistics/monthly-statistical-bulletin/er-ir/er-eeri-daily"

// pageSize is how many records one request asks for: about five months
// of business days.
const pageSize = 100

// hongKong is Hong Kong time, UTC+8 all year (no daylight saving), so a
// fixed zone is exact and needs no tzdata.
var hongKong = time.FixedZone("HKT", 8*60*60)

// PublicationTime is the as_of CES gives an HKMA rate date: 17:00 in Hong
// Kong, 09:00 UTC, the end of the day the rates are for. The HKMA releases
// them in its monthly table after the month; as_of is the day the rate is
// for, not that release.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, hongKong).UTC()
}

// codes maps the table's currency fields to ISO codes. The euro's legacy
// currencies (dem, nlg, bef, frf, itl) are kept for the years they were
// filled; special_drawing_rights is the IMF's SDR.
var codes = map[string]string{
	"usd": "USD", "gbp": "GBP", "jpy": "JPY", "cad": "CAD", "aud": "AUD", "sgd": "SGD",
	"twd": "TWD", "chf": "CHF", "cny": "CNY", "krw": "KRW", "thb": "THB", "myr": "MYR",
	"dem": "DEM", "nlg": "NLG", "bef": "BEF", "frf": "FRF", "itl": "ITL", "eur": "EUR",
	"php": "PHP", "inr": "INR", "idr": "IDR", "zar": "ZAR", "special_drawing_rights": "XDR",
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// page is one answer of the API.
type page struct {
	Header *struct {
		Success bool   `json:"success"`
		Code    string `json:"err_code"`
		Message string `json:"err_msg"`
	} `json:"header"`
	Result *struct {
		Records *[]map[string]any `json:"records"`
	} `json:"result"`
}

// Parse reads one answer into the sets of each date, oldest date first
// and, within a date, by Base; a date whose every rate is null is left
// out. It also returns how many records the
// answer held, so a caller can tell a full page from the last one.
func Parse(payload []byte) ([]fx.RateSet, int, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var p page
	if err := dec.Decode(&p); err != nil {
		return nil, 0, invalid("not the rates table: %v", err)
	}
	if p.Header == nil || p.Result == nil || p.Result.Records == nil {
		return nil, 0, invalid("the answer has no header or no records")
	}
	if !p.Header.Success {
		return nil, 0, invalid("the API answered error %s: %s", p.Header.Code, p.Header.Message)
	}
	records := *p.Result.Records
	days := map[time.Time][]provider.Foreign{}
	seen := map[time.Time]bool{}
	for i, r := range records {
		text, _ := r["end_of_day"].(string)
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(text))
		if err != nil {
			return nil, 0, invalid("record %d: end_of_day %v is not yyyy-mm-dd", i, r["end_of_day"])
		}
		if seen[day] {
			return nil, 0, invalid("%s appears twice", text)
		}
		seen[day] = true
		rates := []provider.Foreign{}
		for field, v := range r {
			if field == "end_of_day" || strings.HasPrefix(field, "neeri_") || v == nil {
				continue
			}
			n, ok := v.(json.Number)
			if !ok {
				return nil, 0, invalid("%s: %s is %v, not a number", text, field, v)
			}
			code, known := codes[field]
			if !known {
				rates = append(rates, provider.Foreign{Code: field, Skip: true})
				continue
			}
			d, err := provider.FloatText(n.String())
			if err != nil {
				return nil, 0, invalid("%s: %s %q: %v", text, field, n, err)
			}
			rates = append(rates, provider.Foreign{Code: code, Value: d.String()})
		}
		if len(rates) > 0 { // a day the table lists with every rate null
			days[day] = rates
		}
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
			return nil, 0, err
		}
		sets = append(sets, published...)
	}
	return sets, len(records), nil
}

// Client fetches the HKMA's table over HTTP (or from a file URL, see
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

// latestWindow is how far back Latest looks: the table is released a
// month at a time, some days into the next month, so the newest day may
// be six weeks old; ten weeks leaves room for a late release.
const latestWindow = 70 * 24 * time.Hour

// Latest returns the newest date of the last ten weeks, from one request
// (the newest records come first).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(hongKong)
	sets, _, err := c.page(ctx, now.Add(-latestWindow), now, 0)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last ten weeks")
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: one request per page of pageSize records.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	for offset := 0; ; offset += pageSize {
		sets, n, err := c.page(ctx, provider.Date(from), provider.Date(to), offset)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
		if n < pageSize {
			break
		}
	}
	return provider.Between(all, from, to), nil
}

// page asks for the records from from to to, newest first, from offset.
func (c *Client) page(ctx context.Context, from, to time.Time, offset int) ([]fx.RateSet, int, error) {
	q := url.Values{
		"choose":    {"end_of_day"},
		"from":      {from.Format(time.DateOnly)},
		"to":        {to.Format(time.DateOnly)},
		"offset":    {strconv.Itoa(offset)},
		"pagesize":  {strconv.Itoa(pageSize)},
		"sortby":    {"end_of_day"},
		"sortorder": {"desc"},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+tablePath+"?"+q.Encode())
	if err != nil {
		return nil, 0, err
	}
	return Parse(body)
}
