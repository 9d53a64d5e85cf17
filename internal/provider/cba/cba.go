// Package cba reads the Central Bank of Armenia's exchange rates of the
// dram from its SOAP web service (https://api.cba.am/exchangerates.asmx):
// about 30 currencies, each the average market rate in drams for an
// Amount of foreign units (1, 10 or 100: JPY per 10, IRR per 100), one
// list per Armenian business day. Keyless; the Bank states no terms of use
// for the service. The service also prices gold and silver (XAU, XAG) per
// gram, not per troy ounce as those codes mean: they are skipped.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the AMD price of one unit: a rate per Amount units is divided
// exactly (a decimal shift, every digit kept), never inverted.
package cba

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBA rate.
const Name = "cba"

// DefaultBaseURL is the CBA's SOAP endpoint.
const DefaultBaseURL = "https://api.cba.am/exchangerates.asmx"

// Quote is the currency every CBA rate is quoted in.
const Quote = "AMD"

// soapNS is the service's XML namespace, also the prefix of its SOAP actions.
const soapNS = "http://www.cba.am/"

// perGram are the codes the service prices per gram of metal.
var perGram = map[string]bool{"XAU": true, "XAG": true}

// yerevan is Armenia's time, UTC+4 all year (no daylight saving since
// 2012), as a fixed zone.
var yerevan = time.FixedZone("AMT", 4*60*60)

// PublicationTime is the as_of CES gives a rate dated day: 18:00 Yerevan
// time on that day. The service gives dates only and the Bank states no
// publication hour; the recording made at 10:48 UTC on 19 March 2026
// still answered the rates of the 18th, so the rates of a day are out in
// its afternoon, and the end of that business day never claims them
// earlier than they could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, yerevan).UTC()
}

type latestEnvelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Result  *struct {
		CurrentDate string `xml:"CurrentDate"`
		Rates       []struct {
			ISO    string `xml:"ISO"`
			Amount string `xml:"Amount"`
			Rate   string `xml:"Rate"`
		} `xml:"Rates>ExchangeRate"`
	} `xml:"Body>ExchangeRatesLatestResponse>ExchangeRatesLatestResult"`
}

type rangeEnvelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Result  *struct {
		Rows []struct {
			ISO      string `xml:"ISO"`
			Amount   string `xml:"Amount"`
			Rate     string `xml:"Rate"`
			RateDate string `xml:"RateDate"`
		} `xml:"diffgram>DocumentElement>ExchangeRatesByRange"`
	} `xml:"Body>ExchangeRatesByDateRangeByISOResponse>ExchangeRatesByDateRangeByISOResult"`
}

// foreign turns one row into a provider.Foreign, skipping the metals.
func foreign(iso, amount, rate string) (provider.Foreign, error) {
	code := strings.TrimSpace(iso)
	units, err := strconv.ParseInt(strings.TrimSpace(amount), 10, 64)
	if err != nil || units <= 0 {
		return provider.Foreign{}, invalid("%s: Amount %q is not a positive whole number", code, amount)
	}
	return provider.Foreign{Code: code, Value: strings.TrimSpace(rate), Units: units, Skip: perGram[code]}, nil
}

// ParseLatest reads an ExchangeRatesLatest answer into one RateSet per
// ISO 4217 currency, sorted by Base, and the codes the answer lists (which
// the range operation needs).
func ParseLatest(payload []byte) ([]fx.RateSet, []string, error) {
	var env latestEnvelope
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&env); err != nil {
		return nil, nil, invalid("not an ExchangeRatesLatest answer: %v", err)
	}
	if env.Result == nil {
		return nil, nil, invalid("not an ExchangeRatesLatest answer: no result")
	}
	day, err := time.Parse("2006-01-02T15:04:05", strings.TrimSpace(env.Result.CurrentDate))
	if err != nil {
		return nil, nil, invalid("CurrentDate %q is not YYYY-MM-DDT00:00:00", env.Result.CurrentDate)
	}
	var rates []provider.Foreign
	var codes []string
	for _, r := range env.Result.Rates {
		f, err := foreign(r.ISO, r.Amount, r.Rate)
		if err != nil {
			return nil, nil, err
		}
		rates = append(rates, f)
		codes = append(codes, f.Code)
	}
	sets, err := provider.ForeignSets(Name, Quote, PublicationTime(day), payload, rates)
	if err != nil {
		return nil, nil, err
	}
	return sets, codes, nil
}

// ParseRange reads an ExchangeRatesByDateRangeByISO answer into one
// RateSet per (date, currency), oldest date first, then by Base. A range
// without rows (no business day in it) yields none.
func ParseRange(payload []byte) ([]fx.RateSet, error) {
	var env rangeEnvelope
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&env); err != nil {
		return nil, invalid("not an ExchangeRatesByDateRangeByISO answer: %v", err)
	}
	if env.Result == nil {
		return nil, invalid("not an ExchangeRatesByDateRangeByISO answer: no result")
	}
	byDate := map[string][]provider.Foreign{}
	days := map[string]time.Time{}
	for _, r := range env.Result.Rows {
		// 2026-03-02T00:00:00+04:00: a date, midnight in Yerevan.
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(r.RateDate))
		if err != nil {
			return nil, invalid("RateDate %q is not a date", r.RateDate)
		}
		date := t.Format(time.DateOnly)
		days[date] = t
		f, err := foreign(r.ISO, r.Amount, r.Rate)
		if err != nil {
			return nil, err
		}
		byDate[date] = append(byDate[date], f)
	}
	dates := make([]string, 0, len(days))
	for d := range days {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	var all []fx.RateSet
	for _, d := range dates {
		sets, err := provider.ForeignSets(Name, Quote, PublicationTime(days[d]), payload, byDate[d])
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return all, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches CBA rates over SOAP (or from a file URL, see
// provider.Post).
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL, the service's .asmx address
// (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: baseURL, http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest business day's rates, one set per currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	body, err := c.call(ctx, "ExchangeRatesLatest", "")
	if err != nil {
		return nil, err
	}
	sets, _, err := ParseLatest(body)
	return sets, err
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with two requests whatever the range: the latest
// rates, for the list of codes the Bank quotes today, and one range
// request for all of them. Currencies the Bank no longer quotes are not
// asked for.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	body, err := c.call(ctx, "ExchangeRatesLatest", "")
	if err != nil {
		return nil, err
	}
	_, codes, err := ParseLatest(body)
	if err != nil {
		return nil, err
	}
	params := fmt.Sprintf("<ISOCodes>%s</ISOCodes><DateFrom>%s</DateFrom><DateTo>%s</DateTo>",
		html.EscapeString(strings.Join(codes, ",")),
		provider.Date(from).Format(time.DateOnly), provider.Date(to).Format(time.DateOnly))
	body, err = c.call(ctx, "ExchangeRatesByDateRangeByISO", params)
	if err != nil {
		return nil, err
	}
	sets, err := ParseRange(body)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// call posts a SOAP 1.1 request for operation with the given parameter
// elements.
func (c *Client) call(ctx context.Context, operation, params string) ([]byte, error) {
	var env bytes.Buffer
	fmt.Fprintf(&env, `<?xml version="1.0" encoding="utf-8"?>`+
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`+
		`<soap:Body><%s xmlns="%s">%s</%s></soap:Body></soap:Envelope>`, operation, soapNS, params, operation)
	header := http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"SOAPAction":   {`"` + soapNS + operation + `"`},
	}
	body, err := provider.Post(ctx, c.http, Name, c.baseURL, header, env.Bytes())
	var pe *provider.PermanentError
	if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
		// One endpoint serves every date: a 404 means a wrong base URL.
		return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
	}
	return body, err
}
