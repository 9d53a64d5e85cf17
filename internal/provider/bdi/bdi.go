// Package bdi reads Banca d'Italia's daily exchange rates against the
// euro from its foreign-exchange portal's dailyRates CSV service: about
// 150 currencies (one row per country, so a currency shared by several
// countries repeats), each as foreign currency units for 1 euro, one
// publication per TARGET business day, one date per request, no API key.
// The rates of the major currencies come from the ESCB's daily
// concertation (the ECB's reference rates); the others Banca d'Italia
// compiles itself. The portal names no terms of use beyond its
// disclaimer (rates indicative, not a benchmark); it is
// https://tassidicambio.bancaditalia.it/.
package bdi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Rome local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Banca d'Italia rate.
const Name = "bdi"

// DefaultBaseURL is the root of the portal's REST API.
const DefaultBaseURL = "https://tassidicambio.bancaditalia.it/terzevalute-wf-web/rest/v1.0"

// Base is the currency every rate is quoted against.
const Base = "EUR"

// perEuro is the only rate convention the dailyRates answer for the euro
// uses: foreign units for one euro, so the set's base is EUR. A row with
// another convention is skipped rather than guessed at.
const perEuro = "Foreign currency amount for 1 Euro."

var rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives the rates of a reference date:
// 18:00 in Rome (CET or CEST) on that date. The payload gives the date
// only, and the portal warns that rates are published with a lag after
// they are recorded; the ESCB's concertation ends by 16:00 CET and the
// portal has the day's rates by the early evening, so 18:00 is no earlier
// than they are known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, rome).UTC()
}

// Parse reads one dailyRates CSV answer into one EUR-based RateSet, as_of
// PublicationTime of its reference date. A currency repeated with the
// same rate (several countries) counts once; with another rate the
// payload is invalid. Rows whose rate is "N.A." (not available that day),
// whose code is no ISO currency, or whose convention is not perEuro are
// recorded in Skipped. An answer with the header and no row (a day
// without rates) yields no set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(payload))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, invalid("not the dailyRates CSV: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := []string{"ISO Code", "Rate", "Rate convention", "Reference date (CET)"}
	for _, h := range need {
		if _, ok := col[h]; !ok {
			return nil, invalid("not the dailyRates CSV: no %q column in %q", h, strings.Join(header, ","))
		}
	}
	type row struct{ code, rate, convention, date string }
	var rows []row
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("read CSV: %v", err)
		}
		if len(rec) < len(header) {
			return nil, invalid("row %q has %d fields, the header %d", strings.Join(rec, ","), len(rec), len(header))
		}
		field := func(h string) string { return strings.TrimSpace(rec[col[h]]) }
		rows = append(rows, row{field("ISO Code"), field("Rate"), field("Rate convention"), field("Reference date (CET)")})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	date := rows[0].date
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, invalid("reference date %q is not YYYY-MM-DD", date)
	}
	b, err := provider.NewBuilder(Name, Base, PublicationTime(day), payload)
	if err != nil {
		return nil, err
	}
	rates := map[string]string{}
	var skipped []string
	for _, rw := range rows {
		if rw.date != date {
			return nil, invalid("rows of %s and %s in one answer", date, rw.date)
		}
		if rw.code == "" {
			return nil, invalid("a row of %s has no ISO code", date)
		}
		if prev, dup := rates[rw.code]; dup {
			if prev != rw.rate {
				return nil, invalid("%s on %s has two rates, %s and %s", rw.code, date, prev, rw.rate)
			}
			continue
		}
		rates[rw.code] = rw.rate
		if rw.rate == "N.A." || rw.convention != perEuro {
			skipped = append(skipped, rw.code)
			continue
		}
		if err := b.Add(rw.code, rw.rate); err != nil {
			return nil, fmt.Errorf("%w (on %s)", err, date)
		}
	}
	set, err := b.Build()
	if err != nil {
		return nil, err
	}
	set.Skipped = append(set.Skipped, skipped...)
	sort.Strings(set.Skipped)
	return []fx.RateSet{set}, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches Banca d'Italia rates over HTTP (or from a file URL, see provider.Get).
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
// rates: a week covers weekends and the Easter closure.
const latestTries = 7

// Latest returns the newest publication, asking for today's Rome date,
// then the days before it, until one has rates.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(rome))
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

// History returns the sets dated from to to (inclusive), oldest first,
// with one request per weekday of the range: the service answers one
// reference date per request and publishes none on weekends. An answer
// dated other than asked is kept once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	return provider.Weekdays(ctx, Name, from, to, c.get)
}

func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("referenceDate", day.Format(time.DateOnly))
	q.Set("currencyIsoCode", Base)
	q.Set("lang", "en")
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/dailyRates?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
