// Package ecb reads the European Central Bank's euro foreign exchange
// reference rates (the "eurofxref" XML files): EUR-based, published once
// per TARGET working day at around 16:00 CET, no API key.
package ecb

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Frankfurt local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every ECB rate.
const Name = "ecb"

// DefaultBaseURL is where the ECB serves the eurofxref files.
const DefaultBaseURL = "https://www.ecb.europa.eu/stats/eurofxref"

// Base is the ECB's base currency.
const Base = "EUR"

var frankfurt = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives an ECB reference day: 16:00 in
// Frankfurt (CET or CEST) on that date, when the ECB publishes.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, frankfurt).UTC()
}

type envelope struct {
	XMLName xml.Name `xml:"Envelope"`
	Cube    struct {
		Days []struct {
			Time  string `xml:"time,attr"`
			Rates []struct {
				Currency string `xml:"currency,attr"`
				Rate     string `xml:"rate,attr"`
			} `xml:"Cube"`
		} `xml:"Cube"`
	} `xml:"Cube"`
}

// Parse reads a eurofxref XML document (daily, 90-day or full history)
// into one RateSet per reference day, newest first. name names the
// sets (the file adapter reuses this parser under its own name).
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	var env envelope
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&env); err != nil {
		return nil, invalid(name, "not eurofxref XML: %v", err)
	}
	if len(env.Cube.Days) == 0 {
		return nil, invalid(name, "eurofxref XML has no reference day")
	}
	sets := make([]fx.RateSet, 0, len(env.Cube.Days))
	seenDays := map[string]bool{}
	for _, d := range env.Cube.Days {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(d.Time))
		if err != nil {
			return nil, invalid(name, "reference day %q is not a date", d.Time)
		}
		if seenDays[d.Time] {
			return nil, invalid(name, "reference day %s appears twice", d.Time)
		}
		seenDays[d.Time] = true
		b, err := provider.NewBuilder(name, Base, PublicationTime(day), payload)
		if err != nil {
			return nil, err
		}
		for _, r := range d.Rates {
			if err := b.Add(strings.TrimSpace(r.Currency), r.Rate); err != nil {
				return nil, fmt.Errorf("%w (day %s)", err, d.Time)
			}
		}
		set, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("%w (day %s)", err, d.Time)
		}
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].AsOf.After(sets[j].AsOf) })
	return sets, nil
}

func invalid(name, format string, args ...any) error {
	return provider.Invalid("provider "+name+": "+format, args...)
}

// Client fetches ECB reference rates over HTTP.
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

// Latest returns the newest reference day, from the daily file.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, "eurofxref-daily.xml")
	if err != nil {
		return nil, err
	}
	return sets[:1], nil
}

// History returns the reference days dated from to to (inclusive), oldest
// first, with exactly one request: the 90-day file when from is recent
// enough, otherwise the full history file. Weekends and TARGET holidays
// are absent.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, c.historyFile(provider.Date(from)))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// historyFile names the smallest file that reaches back to day. The 90-day
// file covers 90 calendar days back from its newest day; keep a margin so
// a date near its edge goes to the full history.
func (c *Client) historyFile(day time.Time) string {
	if c.now().Sub(day) > 85*24*time.Hour {
		return "eurofxref-hist.xml"
	}
	return "eurofxref-hist-90d.xml"
}

func (c *Client) get(ctx context.Context, file string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/"+file)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
