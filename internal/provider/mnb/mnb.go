// Package mnb reads the Magyar Nemzeti Bank's official exchange rates from
// its SOAP web service (arfolyamok.asmx, keyless; the MNB names no terms
// beyond its site's, https://www.mnb.hu/en/monetary-policy/the-mpc/
// exchange-rates). The MNB publishes, every Hungarian business day, forints
// per 1 unit (or per 100 units, for JPY, KRW, IDR and the like, as each
// rate's unit attribute says) of about 30 currencies, with a comma as the
// decimal separator. Each currency becomes a set with Base = that currency
// and one rate Quote = HUF, per single unit, never inverted.
package mnb

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Budapest local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every MNB rate.
const Name = "mnb"

// DefaultBaseURL is the MNB's exchange-rate SOAP endpoint, as recorded.
const DefaultBaseURL = "http://www.mnb.hu/arfolyamok.asmx"

// Quote is the currency every MNB rate is quoted in.
const Quote = "HUF"

// Currencies are those History asks for (the service wants them named):
// every currency the MNB published daily in 2025. A currency it stops
// publishing is simply absent from the answer.
var Currencies = []string{
	"AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "IDR",
	"ILS", "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN",
	"RON", "RSD", "RUB", "SEK", "SGD", "THB", "TRY", "UAH", "USD", "ZAR",
}

const soapNS = "http://www.mnb.hu/webservices/"

var budapest = mustLoad("Europe/Budapest")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives an MNB rate date: 12:00 in
// Budapest (CET or CEST) on that date. The MNB sets its official rates
// from the market's late-morning quotes and publishes them around midday
// (the payload has a date only); noon is meant never to claim a rate
// before it is out. If the MNB's own statement of its publication hour is
// later, move this with it.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, budapest).UTC()
}

// envelope is a SOAP answer: its Body holds one <XResponse> with one
// <XResult>, whose text is the rates document, escaped.
type envelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Body    struct {
		Response struct {
			XMLName xml.Name
			Result  struct {
				XMLName xml.Name
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:",any"`
	} `xml:"Body"`
}

// rates is the inner document (MNBExchangeRates or MNBCurrentExchangeRates).
type rates struct {
	Days []struct {
		Date  string `xml:"date,attr"`
		Rates []struct {
			Unit string `xml:"unit,attr"`
			Curr string `xml:"curr,attr"`
			Text string `xml:",chardata"`
		} `xml:"Rate"`
	} `xml:"Day"`
}

// Parse reads a SOAP answer of GetExchangeRates or GetCurrentExchangeRates
// into one RateSet per (day, currency), oldest day first and, within a
// day, by Base. "402,61" per unit 1 reads as 402.61; "248,17" per unit 100
// as 2.4817. An answer with no day at all is invalid (the service answers
// so for a range without publications too; History treats that as empty
// before parsing). name names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	days, err := parseDays(name, payload)
	if err != nil {
		return nil, err
	}
	if len(days.Days) == 0 {
		return nil, provider.Invalid("provider %s: the answer holds no day", name)
	}
	return build(name, payload, days)
}

func parseDays(name string, payload []byte) (rates, error) {
	var env envelope
	if err := xml.Unmarshal(payload, &env); err != nil {
		return rates{}, provider.Invalid("provider %s: not a SOAP envelope: %v", name, err)
	}
	resp, res := env.Body.Response, env.Body.Response.Result
	if !strings.HasSuffix(resp.XMLName.Local, "Response") || !strings.HasSuffix(res.XMLName.Local, "Result") {
		return rates{}, provider.Invalid("provider %s: the SOAP body holds no result (a fault?)", name)
	}
	var days rates
	if err := xml.Unmarshal([]byte(res.Text), &days); err != nil {
		return rates{}, provider.Invalid("provider %s: the result is not a rates document: %v", name, err)
	}
	return days, nil
}

func build(name string, payload []byte, days rates) ([]fx.RateSet, error) {
	seen := map[string]bool{}
	var sets []fx.RateSet
	for _, d := range days.Days {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(d.Date))
		if err != nil {
			return nil, provider.Invalid("provider %s: day %q is not YYYY-MM-DD", name, d.Date)
		}
		if seen[d.Date] {
			return nil, provider.Invalid("provider %s: day %s appears twice", name, d.Date)
		}
		seen[d.Date] = true
		list := make([]provider.Foreign, 0, len(d.Rates))
		for _, r := range d.Rates {
			units, err := strconv.ParseInt(strings.TrimSpace(r.Unit), 10, 64)
			if err != nil || units <= 0 {
				return nil, provider.Invalid("provider %s: %s on %s: unit %q is not a positive number", name, r.Curr, d.Date, r.Unit)
			}
			// The MNB writes a decimal comma and no thousands separator.
			value := strings.Replace(strings.TrimSpace(r.Text), ",", ".", 1)
			list = append(list, provider.Foreign{Code: r.Curr, Value: value, Units: units})
		}
		published, err := provider.ForeignSets(name, Quote, PublicationTime(day), payload, list)
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// Client calls the MNB's SOAP service over HTTP (or reads a file URL, see
// provider.Post).
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: baseURL, http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the current publication (GetCurrentExchangeRates): one
// set per currency, by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	body, err := c.call(ctx, "GetCurrentExchangeRates", "")
	if err != nil {
		return nil, err
	}
	sets, err := Parse(Name, body)
	if err != nil {
		return nil, err
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one GetExchangeRates request for the whole
// range. A range without a publication is empty.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	params := fmt.Sprintf("<web:startDate>%s</web:startDate><web:endDate>%s</web:endDate><web:currencyNames>%s</web:currencyNames>",
		provider.Date(from).Format(time.DateOnly), provider.Date(to).Format(time.DateOnly), strings.Join(Currencies, ","))
	body, err := c.call(ctx, "GetExchangeRates", params)
	if err != nil {
		return nil, err
	}
	days, err := parseDays(Name, body)
	if err != nil {
		return nil, err
	}
	if len(days.Days) == 0 {
		return nil, nil
	}
	sets, err := build(Name, body, days)
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
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:web="%s">`+
		`<soap:Body><web:%s>%s</web:%s></soap:Body></soap:Envelope>`, soapNS, operation, params, operation)
	header := http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"SOAPAction":   {soapNS + "MNBArfolyamServiceSoap/" + operation},
	}
	body, err := provider.Post(ctx, c.http, Name, c.baseURL, header, env.Bytes())
	var pe *provider.PermanentError
	if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
		// One endpoint serves every date: a 404 means a wrong base URL.
		return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
	}
	return body, err
}
