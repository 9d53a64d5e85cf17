// Package nbu reads the National Bank of Ukraine's official hryvnia
// exchange rates from its exchange_site JSON service: hryvnias per 1, 10,
// 100 or 1000 units of about forty foreign currencies (the payload's
// "units"), plus SDR and four bank metals. The NBU sets the rates on each
// Ukrainian business day (the payload's "calcdate") for the following
// day or days (its "exchangedate"; a weekend repeats Friday's rate), one
// date range per request, no API key. Terms: https://bank.gov.ua/en/useterms.
//
// CES keeps one publication per calcdate, the day the NBU set and
// published the rates: the exchange dates that share a calcdate repeat
// the same rates, so keeping each would invent weekend publications.
package nbu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Kyiv local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBU rate.
const Name = "nbu"

// DefaultBaseURL is the root of the NBU's site, which serves exchange_site.
const DefaultBaseURL = "https://bank.gov.ua"

// Quote is the currency every NBU rate is quoted in: a set's Base is the
// foreign currency and its single rate is the hryvnia price of one unit.
const Quote = "UAH"

var kyiv = mustLoad("Europe/Kyiv")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives the rates the NBU set on day (a
// calcdate): 17:00 in Kyiv (EET or EEST) on that date. The payload carries
// no time; the NBU sets the next day's rates during the Kyiv business day,
// so its close is the first moment they are surely published.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, kyiv).UTC()
}

// metals are the NBU's bank metals (its group 3): ISO 4217 codes, but
// prices of a troy ounce, not currencies. They are skipped.
var metals = map[string]bool{"XAU": true, "XAG": true, "XPT": true, "XPD": true}

type row struct {
	ExchangeDate string      `json:"exchangedate"`
	CalcDate     string      `json:"calcdate"`
	Code         string      `json:"cc"`
	Rate         json.Number `json:"rate"`
	Units        json.Number `json:"units"`
}

// Parse reads an exchange_site JSON array into one RateSet per (calcdate,
// currency): Base is the currency, its one rate is the hryvnias per unit
// (rate divided exactly by units, every digit kept), as_of is
// PublicationTime of the calcdate. Sets come newest first, then by Base;
// an empty array (a range with no publication) yields none.
// Metals and codes that are no ISO currency are recorded in Skipped of the
// first set of their date. Exchange dates that share a calcdate must agree
// on every rate; a disagreement makes the payload invalid.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var rows []row
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		return nil, invalid("not a JSON array of rates: %v", err)
	}
	if rows == nil {
		return nil, invalid("payload is null, not an array of rates")
	}
	type key struct{ date, code string }
	values := map[key]string{}
	days := map[string]time.Time{}
	skipped := map[string]map[string]bool{}
	var order []key
	for i, r := range rows {
		day, err := time.Parse("02.01.2006", strings.TrimSpace(r.CalcDate))
		if err != nil {
			return nil, invalid("row %d: calcdate %q is not DD.MM.YYYY", i, r.CalcDate)
		}
		date := day.Format(time.DateOnly)
		days[date] = day
		code := strings.TrimSpace(r.Code)
		if _, ok := fx.LookupCurrency(code); !ok || metals[code] {
			if code == "" {
				return nil, invalid("row %d (%s) has no currency code", i, date)
			}
			if skipped[date] == nil {
				skipped[date] = map[string]bool{}
			}
			skipped[date][code] = true
			continue
		}
		value, err := perUnit(r.Rate.String(), r.Units.String())
		if err != nil {
			return nil, invalid("%s on %s: %v", code, r.ExchangeDate, err)
		}
		k := key{date, code}
		if prev, dup := values[k]; dup {
			if prev != value {
				return nil, invalid("%s set on %s has two rates, %s and %s", code, date, prev, value)
			}
			continue
		}
		values[k] = value
		order = append(order, k)
	}

	byDate := map[string][]fx.RateSet{}
	for _, k := range order {
		b, err := provider.NewBuilder(Name, k.code, PublicationTime(days[k.date]), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, values[k]); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, k.code, k.date)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		byDate[k.date] = append(byDate[k.date], set)
	}
	dates := make([]string, 0, len(days))
	for date := range days {
		dates = append(dates, date)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dates)))
	var sets []fx.RateSet
	for _, date := range dates {
		day := byDate[date]
		if len(day) == 0 {
			return nil, invalid("%s has no usable rates", date)
		}
		sort.Slice(day, func(i, j int) bool { return day[i].Base < day[j].Base })
		for code := range skipped[date] {
			day[0].Skipped = append(day[0].Skipped, code)
		}
		sort.Strings(day[0].Skipped)
		sets = append(sets, day...)
	}
	return sets, nil
}

// perUnit divides a rate quoted per units (1, 10, 100, 1000, ...) exactly,
// by moving the decimal point, and writes it with every digit kept.
func perUnit(rate, units string) (string, error) {
	v, err := decimal.NewFromString(strings.TrimSpace(rate))
	if err != nil {
		return "", fmt.Errorf("rate %q is not a number", rate)
	}
	u := strings.TrimSpace(units)
	if u == "" || u[0] != '1' || strings.Trim(u[1:], "0") != "" {
		return "", fmt.Errorf("units %q is not 1, 10, 100, ...", units)
	}
	return fx.Exact(v.Shift(-int32(len(u) - 1))), nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches NBU rates over HTTP (or from a file URL, see provider.Get).
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

// latestWindow is how far back Latest looks for the newest calcdate: the
// longest Ukrainian run of days without a business day is well under it.
const latestWindow = 14 * 24 * time.Hour

// followingDays is how far past a calcdate its exchange dates may reach
// (a long weekend with holidays), so History asks for them too.
const followingDays = 10

// Latest returns the newest publication: one set per foreign currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(kyiv)
	// Tomorrow's exchange date is the one today's publication sets.
	sets, err := c.get(ctx, now.Add(-latestWindow), now.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no rates set in the 14 days to %s", Name, now.Format(time.DateOnly)))
	}
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n], nil
}

// History returns the sets whose calcdate is from to to (inclusive),
// oldest first and, within a date, by Base, from one request: the range of
// exchange dates those calcdates set.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from), provider.Date(to).AddDate(0, 0, followingDays))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get asks for the exchange dates from start to end (calendar dates).
func (c *Client) get(ctx context.Context, start, end time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("start", start.Format("20060102"))
	q.Set("end", end.Format("20060102"))
	q.Set("sort", "exchangedate")
	q.Set("order", "asc")
	q.Set("json", "")
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/NBU_Exchange/exchange_site?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
