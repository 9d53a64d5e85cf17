// Package bcn reads the Banco Central de Nicaragua's official exchange
// rate of the córdoba against the US dollar from its SOAP service
// (https://servicios.bcn.gob.ni/Tc_Servicio/ServicioTC.asmx, keyless; the
// BCN names no terms for it), whose operation RecuperaTC_Mes answers a
// whole month in one request. The BCN sets the rate for every calendar
// day, weekends included, and publishes each month's table ahead of it:
// one Valor per Fecha, córdobas per 1 US dollar, which becomes a set
// Base = USD with one rate Quote = NIO. Latest never returns a rate
// whose as_of is still to come.
package bcn

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BCN rate.
const Name = "bcn"

// DefaultBaseURL is the BCN's exchange-rate SOAP endpoint.
const DefaultBaseURL = "https://servicios.bcn.gob.ni/Tc_Servicio/ServicioTC.asmx"

// Home is Nicaragua's currency, the quote of every rate.
const Home = "NIO"

const soapNS = "http://servicios.bcn.gob.ni/"

// managua is Nicaragua's time, UTC-6 all year (no daylight saving), so a
// fixed zone is exact and needs no tzdata.
var managua = time.FixedZone("CST", -6*60*60)

// PublicationTime is the as_of CES gives a BCN rate date: 08:00 in
// Managua, 14:00 UTC, when the catalogue's polling window opens. The
// table has dates and no time; the rate of a day is set before it, so
// the morning of the day is when it is surely in force.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, managua).UTC()
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// envelope is the SOAP answer of RecuperaTC_Mes.
type envelope struct {
	XMLName  xml.Name `xml:"Envelope"`
	Response *struct {
		Result struct {
			Rates []struct {
				Date  string `xml:"Fecha"`
				Value string `xml:"Valor"`
			} `xml:"Detalle_TC>Tc"`
		} `xml:"RecuperaTC_MesResult"`
	} `xml:"Body>RecuperaTC_MesResponse"`
}

// Parse reads one month's answer into one set per date, oldest first. A
// month the BCN has not published yet answers no Tc and gives no set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var env envelope
	if err := xml.Unmarshal(payload, &env); err != nil {
		return nil, invalid("not a SOAP answer: %v", err)
	}
	if env.Response == nil {
		return nil, invalid("the answer has no RecuperaTC_MesResponse")
	}
	seen := map[time.Time]bool{}
	var sets []fx.RateSet
	for i, r := range env.Response.Result.Rates {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(r.Date))
		if err != nil {
			return nil, invalid("rate %d: Fecha %q is not yyyy-mm-dd", i, r.Date)
		}
		if seen[day] {
			return nil, invalid("%s appears twice", r.Date)
		}
		seen[day] = true
		set, err := provider.ForeignSets(Name, Home, PublicationTime(day), payload,
			[]provider.Foreign{{Code: "USD", Value: r.Value}})
		if err != nil {
			return nil, err
		}
		sets = append(sets, set...)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// Client calls the BCN's SOAP service over HTTP (or reads a file URL, see
// provider.Post).
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

// Latest returns the rate in force now: the newest whose as_of is not
// after now, from this month's table (Managua's month), or last month's
// when this month's has none yet.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now()
	local := now.In(managua)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, time.UTC)
	for range 2 {
		sets, err := c.month(ctx, month)
		if err != nil {
			return nil, err
		}
		for i := len(sets) - 1; i >= 0; i-- {
			if !sets[i].AsOf.After(now) {
				return sets[i : i+1 : i+1], nil
			}
		}
		month = month.AddDate(0, -1, 0)
	}
	return nil, invalid("no rate in force at %s in this month's or last month's table", now.UTC().Format(time.RFC3339))
}

// History returns the sets dated from to to (inclusive), oldest first, with
// one request per calendar month of the range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	first, last := provider.Date(from), provider.Date(to)
	var all []fx.RateSet
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(last); m = m.AddDate(0, 1, 0) {
		sets, err := c.month(ctx, m)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

// month calls RecuperaTC_Mes for month's year and month.
func (c *Client) month(ctx context.Context, month time.Time) ([]fx.RateSet, error) {
	var env bytes.Buffer
	fmt.Fprintf(&env, `<?xml version="1.0" encoding="utf-8"?>`+
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`+
		`<soap:Body><RecuperaTC_Mes xmlns="%s"><Ano>%d</Ano><Mes>%d</Mes></RecuperaTC_Mes></soap:Body></soap:Envelope>`,
		soapNS, month.Year(), int(month.Month()))
	header := http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"SOAPAction":   {`"` + soapNS + `RecuperaTC_Mes"`},
	}
	body, err := provider.Post(ctx, c.http, Name, c.baseURL, header, env.Bytes())
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			// One endpoint serves every month: a 404 means a wrong base URL.
			return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return nil, err
	}
	return Parse(body)
}
