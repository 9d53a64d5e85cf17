// Package bnr reads the Banca Națională a României's reference exchange
// rates from its XML files (curs.bnr.ro, keyless; the BNR names no terms
// beyond its site's, https://www.bnr.ro/en/561-exchange-rates). The BNR
// publishes, every Romanian business day, lei per 1 unit (or per 100, as a
// rate's multiplier attribute says: HUF, JPY, KRW, IDR, ISK) of about 35
// currencies. Each currency becomes a set with Base = that currency and one
// rate Quote = RON, per single unit, never inverted. XAU, which the BNR
// quotes per gram of gold (ISO's XAU is a troy ounce), is skipped.
package bnr

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Bucharest local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BNR rate.
const Name = "bnr"

// DefaultBaseURL is the root of the BNR's rate files.
const DefaultBaseURL = "https://curs.bnr.ro"

// Quote is the currency every BNR rate is quoted in.
const Quote = "RON"

var bucharest = mustLoad("Europe/Bucharest")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a BNR rate date: 13:00 in
// Bucharest (EET or EEST) on that date, around when the BNR publishes
// its reference rates (the file has a date only). If the BNR's own
// statement of its publication hour is later, move this with it.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 13, 0, 0, 0, bucharest).UTC()
}

type dataSet struct {
	XMLName xml.Name `xml:"DataSet"`
	Body    struct {
		OrigCurrency string `xml:"OrigCurrency"`
		Cubes        []struct {
			Date  string `xml:"date,attr"`
			Rates []struct {
				Currency   string `xml:"currency,attr"`
				Multiplier string `xml:"multiplier,attr"`
				Text       string `xml:",chardata"`
			} `xml:"Rate"`
		} `xml:"Cube"`
	} `xml:"Body"`
}

// Parse reads a BNR rates file (the daily nbrfxrates.xml or a yearly
// nbrfxratesYYYY.xml) into one RateSet per (date, currency), oldest date
// first and, within a date, by Base. name names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	var ds dataSet
	if err := xml.Unmarshal(payload, &ds); err != nil {
		return nil, provider.Invalid("provider %s: not a BNR DataSet: %v", name, err)
	}
	if got := strings.TrimSpace(ds.Body.OrigCurrency); got != Quote {
		return nil, provider.Invalid("provider %s: rates are against %q, want %s", name, got, Quote)
	}
	if len(ds.Body.Cubes) == 0 {
		return nil, provider.Invalid("provider %s: the file holds no rate date", name)
	}
	seen := map[string]bool{}
	var sets []fx.RateSet
	for _, cube := range ds.Body.Cubes {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(cube.Date))
		if err != nil {
			return nil, provider.Invalid("provider %s: date %q is not YYYY-MM-DD", name, cube.Date)
		}
		if seen[cube.Date] {
			return nil, provider.Invalid("provider %s: date %s appears twice", name, cube.Date)
		}
		seen[cube.Date] = true
		list := make([]provider.Foreign, 0, len(cube.Rates))
		for _, r := range cube.Rates {
			units := int64(1)
			if m := strings.TrimSpace(r.Multiplier); m != "" {
				units, err = strconv.ParseInt(m, 10, 64)
				if err != nil || units <= 0 {
					return nil, provider.Invalid("provider %s: %s on %s: multiplier %q is not a positive number", name, r.Currency, cube.Date, r.Multiplier)
				}
			}
			list = append(list, provider.Foreign{
				Code: r.Currency, Value: r.Text, Units: units,
				Skip: strings.EqualFold(strings.TrimSpace(r.Currency), "XAU"), // per gram, not per ounce
			})
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

// Client fetches BNR files over HTTP (or from a file URL, see provider.Get).
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest publication (nbrfxrates.xml): one set per
// currency, by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, "/nbrfxrates.xml")
	if err != nil {
		return nil, err
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: one request per calendar year of the range (the
// BNR serves a file per year). A year with no file yet (404) is empty.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	for y := provider.Date(from).Year(); y <= provider.Date(to).Year(); y++ {
		sets, err := c.get(ctx, "/files/xml/years/nbrfxrates"+strconv.Itoa(y)+".xml")
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) get(ctx context.Context, path string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
