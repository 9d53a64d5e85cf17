// Package rba reads the Reserve Bank of Australia's daily exchange rates:
// statistical table F11.1, a CSV file of indicative rates from 2023 to the
// latest business day, one column per currency, each value the units of
// that currency one Australian dollar buys ("A$1=USD"). The rates are
// those of about 16:00 Sydney time, published once per Australian
// business day. Keyless; terms (copyright and use) at
// https://www.rba.gov.au/copyright/.
//
// One set per day: Base = AUD, one rate per foreign currency, as
// published. The trade-weighted index and the SDR column are no ISO 4217
// currencies and are skipped.
package rba

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Sydney local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every RBA rate.
const Name = "rba"

// DefaultBaseURL is where the RBA serves its statistical tables as CSV.
const DefaultBaseURL = "https://www.rba.gov.au/statistics/tables/csv"

// Base is the currency every RBA rate is quoted against.
const Base = "AUD"

// file is table F11.1, the daily exchange rates from 2023 on. Earlier
// years sit in separate spreadsheet files this adapter does not read.
const file = "f11.1-data.csv"

var sydney = mustLoad("Australia/Sydney")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives an RBA rate date: 16:00 Sydney
// time (AEST or AEDT) on that date, the time of day the RBA's daily rates
// are taken at; the file is updated after it, so the rate is never
// claimed before it could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, sydney).UTC()
}

// Parse reads table F11.1 into one RateSet per date, Base AUD, newest
// first. The table's head names each column's currency in its "Units" row
// and ends with the "Series ID" row; the data rows follow, dated like
// 20-Mar-2026. An empty cell is a currency not published that day. Columns
// whose unit is no ISO 4217 code (Index, SDR) are named in Skipped.
func Parse(payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(payload, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	var units []string
	inData := false
	var sets []fx.RateSet
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("CSV: %v", err)
		}
		label := strings.TrimSpace(rec[0])
		if !inData {
			switch label {
			case "Units":
				units = rec
			case "Series ID":
				inData = true
			}
			continue
		}
		if label == "" && strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		if units == nil {
			return nil, invalid("table has no Units row before its data")
		}
		if len(rec) > len(units) {
			return nil, invalid("row %q has %d fields, the Units row %d", label, len(rec), len(units))
		}
		day, err := time.Parse("02-Jan-2006", label)
		if err != nil {
			return nil, invalid("date %q is not like 20-Mar-2026", label)
		}
		date := day.Format(time.DateOnly)
		if seen[date] {
			return nil, invalid("date %s appears twice", date)
		}
		seen[date] = true
		b, err := provider.NewBuilder(Name, Base, PublicationTime(day), payload)
		if err != nil {
			return nil, err
		}
		for i, v := range rec[1:] {
			if strings.TrimSpace(v) == "" {
				continue
			}
			if err := b.Add(strings.TrimSpace(units[i+1]), v); err != nil {
				return nil, err
			}
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	if !inData {
		return nil, invalid("not table F11.1: no Series ID row")
	}
	if len(sets) == 0 {
		return nil, invalid("table F11.1 has no rows")
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.After(sets[j].AsOf) })
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches RBA rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest day of table F11.1.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return sets[:1], nil
}

// History returns the days dated from to to (inclusive), oldest first,
// from one request for the whole table. The table starts on 2023-01-03:
// earlier dates are absent.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) get(ctx context.Context) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/"+file)
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			// One file holds every date: a 404 means a wrong base URL.
			return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return nil, err
	}
	return Parse(body)
}
