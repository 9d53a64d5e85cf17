// Package sarb reads the South African Reserve Bank's daily exchange rates
// from its web indicators API (custom.resbank.co.za/SarbWebApi, keyless;
// the SARB names no terms for it), one time series per currency: the
// weighted average of the banks' rates at about 10:30 each South African
// business day. Three series are rand per 1 unit of the US dollar, the
// pound and the euro: sets with Base = that currency and one rate Quote =
// ZAR. The twenty others are units of a currency per 1 rand ("Japan: Yen
// per Rand"): together one set Base = ZAR. No rate is ever inverted.
package sarb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every SARB rate.
const Name = "sarb"

// DefaultBaseURL is the root of the SARB's web API.
const DefaultBaseURL = "https://custom.resbank.co.za/SarbWebApi"

// Home is South Africa's currency.
const Home = "ZAR"

// latestDays is how far back Latest looks for the newest publication.
const latestDays = 14

// johannesburg is South African Standard Time. South Africa keeps UTC+2
// all year (no daylight saving), so a fixed zone is exact.
var johannesburg = time.FixedZone("SAST", 2*60*60)

// PublicationTime is the as_of CES gives a SARB rate date: 17:00 in
// Johannesburg on that date, 15:00 UTC. The rates are the banks' of about
// 10:30, but the SARB states no hour at which it publishes them and the
// payload has a date only, so the close of the business day is the first
// moment the day's rate is surely out.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, johannesburg).UTC()
}

// Series is one SARB daily exchange-rate series: its code, the ISO code
// of its foreign currency, and its direction.
type Series struct {
	Code     string
	Currency string
	// PerRand: units of Currency per 1 rand (a ZAR-based rate); otherwise
	// rand per 1 unit of Currency.
	PerRand bool
}

// AllSeries are the series CES reads, the SARB's codes with the currency
// and direction their names state ("Rand per US Dollar", "Australia:
// Dollar per Rand"); Parse checks each name against its direction.
var AllSeries = []Series{
	{"EXCX135D", "USD", false}, {"EXCZ001D", "GBP", false}, {"EXCZ002D", "EUR", false},
	{"EXCB080D", "AUD", true}, {"EXCB051D", "BWP", true}, {"EXCB036D", "BRL", true},
	{"EXCB031D", "CAD", true}, {"EXCB121D", "CNY", true}, {"EXCB003D", "DKK", true},
	{"EXCB122D", "HKD", true}, {"EXCB123D", "INR", true}, {"EXCB094D", "ILS", true},
	{"EXCB120D", "JPY", true}, {"EXCB059D", "KES", true}, {"EXCB063D", "MWK", true},
	{"EXCB081D", "NZD", true}, {"EXCB013D", "NOK", true}, {"EXCB015D", "SEK", true},
	{"EXCB016D", "CHF", true}, {"EXCB126D", "TWD", true}, {"EXCB115D", "THB", true},
	{"EXCB071D", "ZMW", true}, {"EXCB118D", "KRW", true},
}

// observation is one point of a series; Value stays a json.Number so its
// digits are kept exactly (never a float64).
type observation struct {
	Period     string      `json:"Period"`
	Timeseries string      `json:"Timeseries"`
	Value      json.Number `json:"Value"`
}

// Observations is one series' answer, parsed: the value of each date.
type Observations struct {
	Series Series
	Values map[time.Time]string
}

// ParseSeries reads the answer of GetTimeseriesObservations for s. Every
// observation's name must state s's direction ("... per Rand" for a
// per-rand series, "Rand per ..." otherwise), so a series that changed
// meaning is refused rather than read the wrong way up. An empty array is
// a range without observations. name names the errors.
func ParseSeries(name string, s Series, payload []byte) (Observations, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var obs []observation
	if err := dec.Decode(&obs); err != nil || obs == nil {
		return Observations{}, provider.Invalid("provider %s: series %s: not a JSON array of observations: %v", name, s.Code, err)
	}
	out := Observations{Series: s, Values: map[time.Time]string{}}
	for _, o := range obs {
		ts := strings.ToLower(strings.TrimSpace(o.Timeseries))
		if ok := strings.HasSuffix(ts, "per rand"); ok != s.PerRand || (!s.PerRand && !strings.HasPrefix(ts, "rand per ")) {
			return Observations{}, provider.Invalid("provider %s: series %s is %q, not the direction CES reads it in", name, s.Code, o.Timeseries)
		}
		day, err := time.Parse("2006-01-02T15:04:05", strings.TrimSpace(o.Period))
		if err != nil {
			return Observations{}, provider.Invalid("provider %s: series %s: period %q is not a date", name, s.Code, o.Period)
		}
		if prev, dup := out.Values[day]; dup && prev != o.Value.String() {
			return Observations{}, provider.Invalid("provider %s: series %s: %s appears twice", name, s.Code, o.Period)
		}
		out.Values[day] = o.Value.String()
	}
	return out, nil
}

// Build turns the series of one fetch into sets, one date at a time:
// per date a set for each rand-quoted currency (Base = it, Quote = ZAR)
// and one set Base = ZAR holding the per-rand currencies. Sets are oldest
// date first and, within a date, by Base. payload is hashed into the sets
// (the concatenated answers).
func Build(name string, series []Observations, payload []byte) ([]fx.RateSet, error) {
	type day struct {
		local []provider.Foreign
		cross map[string]string
	}
	days := map[time.Time]*day{}
	for _, o := range series {
		for date, value := range o.Values {
			d := days[date]
			if d == nil {
				d = &day{cross: map[string]string{}}
				days[date] = d
			}
			if o.Series.PerRand {
				d.cross[o.Series.Currency] = value
			} else {
				d.local = append(d.local, provider.Foreign{Code: o.Series.Currency, Value: value})
			}
		}
	}
	var sets []fx.RateSet
	for date, d := range days {
		asOf := PublicationTime(date)
		if len(d.local) > 0 {
			published, err := provider.ForeignSets(name, Home, asOf, payload, d.local)
			if err != nil {
				return nil, err
			}
			sets = append(sets, published...)
		}
		if len(d.cross) > 0 {
			b, err := provider.NewBuilder(name, Home, asOf, payload)
			if err != nil {
				return nil, err
			}
			for code, value := range d.cross {
				if err := b.Add(code, value); err != nil {
					return nil, fmt.Errorf("%w (on %s)", err, date.Format(time.DateOnly))
				}
			}
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			sets = append(sets, set)
		}
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// Client fetches SARB series over HTTP.
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

// Latest returns the sets of the newest date observed in the last
// latestDays days (one request per series), by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(time.Now().In(johannesburg))
	sets, err := c.get(ctx, today.AddDate(0, 0, -latestDays), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no rate in the last %d days", Name, latestDays))
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: one request per series for the whole range (the
// API serves ranges but one series at a time), len(AllSeries) in all.
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

func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	const stamp = "2006-01-02T00:00:00"
	var all []Observations
	var payload bytes.Buffer
	for _, s := range AllSeries {
		u := fmt.Sprintf("%s/WebIndicators/Shared/GetTimeseriesObservations/%s/%s/%s",
			c.baseURL, s.Code, provider.Date(from).Format(stamp), provider.Date(to).Format(stamp))
		body, err := provider.Get(ctx, c.http, Name, u)
		if err != nil {
			return nil, err
		}
		o, err := ParseSeries(Name, s, body)
		if err != nil {
			return nil, err
		}
		all = append(all, o)
		payload.Write(body)
	}
	return Build(Name, all, payload.Bytes())
}
