// Package bcra reads the Banco Central de la República Argentina's
// exchange-rate quotations (the Cotizaciones endpoint of its Estadísticas
// Cambiarias API): pesos per unit of about forty foreign currencies
// (tipoCotizacion; a description ending "C/1.000 UNIDADES" quotes per
// 1000 units), with each currency's US dollar price (tipoPase), one
// publication per Argentine business day, one date per request, no API
// key. Terms: https://www.bcra.gob.ar/aviso-legal/.
//
// Every tipoCotizacion is the currency's tipoPase times the USD line's
// tipoCotizacion, so the USD line is the BCRA's peso price of the dollar
// on which the others rest. REF (the Communication A 3500 reference
// dollar, a USD rate under another code) and the BCRA's old codes for
// current currencies (MXP, VEB) are no ISO 4217 codes of a current
// currency and are skipped, as are ARS itself and the metals.
package bcra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BCRA rate.
const Name = "bcra"

// DefaultBaseURL is the root of the BCRA's exchange statistics API.
const DefaultBaseURL = "https://api.bcra.gob.ar/estadisticascambiarias/v1.0"

// Quote is the currency every BCRA rate is quoted in: a set's Base is the
// foreign currency and its single rate is the peso price of one unit.
const Quote = "ARS"

// buenosAires is Argentina Time, UTC-3 all year (no daylight saving since
// 2009), so a fixed zone is exact for current dates and needs no tzdata.
var buenosAires = time.FixedZone("ART", -3*60*60)

// PublicationTime is the as_of CES gives the BCRA quotations of a date:
// 18:00 in Buenos Aires on that date, 21:00 UTC. The payload carries a
// date and no time; the BCRA publishes after the afternoon's market
// close, and 18:00 is after it yet still on the same UTC date.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, buenosAires).UTC()
}

// metals are quoted by the BCRA in dollars only (tipoCotizacion 0):
// prices of a troy ounce, not currencies. They are skipped.
var metals = map[string]bool{"XAU": true, "XAG": true, "XPT": true, "XPD": true}

// perUnits finds a description's unit, "DONG VIETNAM (C/1.000 UNIDADES)"
// (c/ = cada, per; the dot groups thousands).
var perUnits = regexp.MustCompile(`C/\s*([0-9.]+)\s*UNIDADES`)

type answer struct {
	Results *struct {
		Fecha   string `json:"fecha"`
		Detalle []struct {
			Code        string      `json:"codigoMoneda"`
			Description string      `json:"descripcion"`
			Quotation   json.Number `json:"tipoCotizacion"`
		} `json:"detalle"`
	} `json:"results"`
}

// Parse reads one Cotizaciones answer into one RateSet per foreign
// currency, sorted by Base: its one rate is tipoCotizacion, pesos per
// unit (divided exactly by the unit a description states, every digit
// kept), as_of is PublicationTime of fecha. Skipped codes are recorded in
// Skipped of the first set. An answer with no quotation (a day without
// one) yields no set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var a answer
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&a); err != nil {
		return nil, invalid("not a Cotizaciones JSON answer: %v", err)
	}
	if a.Results == nil {
		return nil, invalid("answer has no results")
	}
	if len(a.Results.Detalle) == 0 {
		return nil, nil
	}
	day, err := time.Parse(time.DateOnly, strings.TrimSpace(a.Results.Fecha))
	if err != nil {
		return nil, invalid("fecha %q is not YYYY-MM-DD", a.Results.Fecha)
	}
	asOf := PublicationTime(day)
	var sets []fx.RateSet
	var skipped []string
	seen := map[string]bool{}
	for _, d := range a.Results.Detalle {
		code := strings.TrimSpace(d.Code)
		if _, ok := fx.LookupCurrency(code); !ok || metals[code] || code == Quote {
			if code == "" {
				return nil, invalid("a quotation of %s has no currency code", a.Results.Fecha)
			}
			if code != Quote {
				skipped = append(skipped, code)
			}
			continue
		}
		if seen[code] {
			return nil, invalid("%s appears twice on %s", code, a.Results.Fecha)
		}
		seen[code] = true
		value, err := perUnit(d.Quotation.String(), d.Description)
		if err != nil {
			return nil, invalid("%s on %s: %v", code, a.Results.Fecha, err)
		}
		b, err := provider.NewBuilder(Name, code, asOf, payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, value); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, a.Results.Fecha)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if len(sets) == 0 {
		return nil, invalid("%s has no usable quotation (only %s)", a.Results.Fecha, strings.Join(skipped, ", "))
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, nil
}

// perUnit divides a quotation by the unit its description states (1 when
// it states none) exactly, by moving the decimal point; every digit kept.
func perUnit(quotation, description string) (string, error) {
	v, err := decimal.NewFromString(strings.TrimSpace(quotation))
	if err != nil {
		return "", fmt.Errorf("tipoCotizacion %q is not a number", quotation)
	}
	m := perUnits.FindStringSubmatch(strings.ToUpper(description))
	if m == nil {
		return fx.Exact(v), nil
	}
	u := strings.ReplaceAll(m[1], ".", "")
	if u == "" || u[0] != '1' || strings.Trim(u[1:], "0") != "" {
		return "", fmt.Errorf("unit %q in %q is not 1, 10, 100, ...", m[1], description)
	}
	return fx.Exact(v.Shift(-int32(len(u) - 1))), nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches BCRA quotations over HTTP (or from a file URL, see provider.Get).
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
// quotations: a week covers weekends and Argentine holidays.
const latestTries = 7

// Latest returns the newest publication, asking for today's Buenos Aires
// date, then the days before it, until one has quotations.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(buenosAires))
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
		fmt.Errorf("provider %s: no quotations in the %d days to %s", Name, latestTries, today.Format(time.DateOnly)))
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per weekday of the range: the
// endpoint serves one date per request and the BCRA quotes no weekend.
// An answer dated other than asked (a holiday) is kept once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	return provider.Weekdays(ctx, Name, from, to, c.get)
}

func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("fecha", day.Format(time.DateOnly))
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/Cotizaciones?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
