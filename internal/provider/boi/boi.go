// Package boi reads the Bank of Israel's representative exchange rates
// from its SDMX web service (edge.boi.gov.il, dataflow BOI.STATISTICS/EXR,
// data type OF00, as CSV; keyless; terms: https://www.boi.org.il/en/terms-of-use).
// The Bank publishes, every Israeli business day, new shekels per 10^n
// units of about 14 currencies, n being each series' UNIT_MULT (2 for the
// yen: per 100 yen; 1 for the Lebanese pound: per 10). Each currency
// becomes a set with Base = that currency and one rate Quote = ILS, per
// single unit (an exact shift of the published digits), never inverted.
package boi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Jerusalem local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Bank of Israel rate.
const Name = "boi"

// DefaultBaseURL is the Bank of Israel's SDMX dataflow of exchange rates.
const DefaultBaseURL = "https://edge.boi.gov.il/FusionEdgeServer/sdmx/v2/data/dataflow/BOI.STATISTICS/EXR/1.0"

// Quote is the currency every Bank of Israel rate is quoted in.
const Quote = "ILS"

// dataType selects the official representative rates among the dataflow's
// series.
const dataType = "OF00"

// latestDays is how far back Latest looks for the newest publication: more
// than any run of Israeli holidays without a representative rate.
const latestDays = 14

var jerusalem = mustLoad("Asia/Jerusalem")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a representative-rate date: 16:00
// in Jerusalem (IST or IDT) on that date. The Bank sets the rates from the
// interbank market in the mid-afternoon and publishes them soon after (an
// exact hour is not in the payload, which has a date only); 16:00 is meant
// never to claim a rate before it is out. If the Bank's own statement of
// its publication hour is later, move this with it.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, jerusalem).UTC()
}

// columns the parser needs, by header name (the service may reorder them).
var columns = []string{"BASE_CURRENCY", "COUNTER_CURRENCY", "UNIT_MULT", "TIME_PERIOD", "OBS_VALUE"}

// Parse reads an SDMX CSV answer into one RateSet per (date, currency),
// oldest date first and, within a date, by Base. A row without a value
// (an empty or NaN observation) is no publication and is ignored; a series
// against another counter currency than ILS makes the payload invalid.
// name names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(payload))
	header, err := r.Read()
	if err != nil {
		return nil, provider.Invalid("provider %s: not an SDMX CSV: %v", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, c := range columns {
		if _, ok := col[c]; !ok {
			return nil, provider.Invalid("provider %s: the CSV has no %s column", name, c)
		}
	}
	byDate := map[string][]provider.Foreign{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, provider.Invalid("provider %s: CSV line %d: %v", name, line, err)
		}
		field := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		value := field("OBS_VALUE")
		if value == "" || strings.EqualFold(value, "NaN") {
			continue
		}
		if counter := field("COUNTER_CURRENCY"); counter != Quote {
			return nil, provider.Invalid("provider %s: line %d: %s is quoted in %q, want %s", name, line, field("BASE_CURRENCY"), counter, Quote)
		}
		mult, err := strconv.Atoi(field("UNIT_MULT"))
		if err != nil || mult < 0 || mult > 6 {
			return nil, provider.Invalid("provider %s: line %d: UNIT_MULT %q is not a power of ten from 0 to 6", name, line, field("UNIT_MULT"))
		}
		units := int64(1)
		for ; mult > 0; mult-- {
			units *= 10
		}
		date := field("TIME_PERIOD")
		byDate[date] = append(byDate[date], provider.Foreign{Code: field("BASE_CURRENCY"), Value: value, Units: units})
	}
	if len(byDate) == 0 {
		return nil, provider.Invalid("provider %s: the CSV holds no observation", name)
	}
	var sets []fx.RateSet
	for date, list := range byDate {
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, provider.Invalid("provider %s: TIME_PERIOD %q is not YYYY-MM-DD", name, date)
		}
		published, err := provider.ForeignSets(name, Quote, PublicationTime(day), payload, list)
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// Client fetches Bank of Israel rates over HTTP (or from a file URL, see
// provider.Get).
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

// Latest returns the newest publication of the last latestDays days (one
// request): one set per currency, by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(time.Now().In(jerusalem))
	sets, err := c.get(ctx, today.AddDate(0, 0, -latestDays), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			errors.New("provider boi: no representative rate in the last "+strconv.Itoa(latestDays)+" days"))
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request for the whole range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get asks for the representative rates dated from to to. An answer with
// only the header (a range without publications) is no set, not an error.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	q := url.Values{
		"c[DATA_TYPE]": {dataType},
		"startperiod":  {provider.Date(from).Format(time.DateOnly)},
		"endperiod":    {provider.Date(to).Format(time.DateOnly)},
		"format":       {"csv"},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/?"+q.Encode())
	var pe *provider.PermanentError
	if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
		return nil, nil // the service answers 404 for a range without data
	}
	if err != nil {
		return nil, err
	}
	if lines := bytes.Count(bytes.TrimSpace(body), []byte("\n")); lines == 0 && bytes.Contains(body, []byte("OBS_VALUE")) {
		return nil, nil
	}
	return Parse(Name, body)
}
