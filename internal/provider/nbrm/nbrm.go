// Package nbrm reads the exchange rate list of the Narodna Banka na
// Republika Severna Makedonija (the National Bank of North Macedonia)
// from its JSON service (https://www.nbrm.mk/KLServiceNOV/GetExchangeRate,
// keyless; the NBRM names no terms for it), which serves a range of dates
// in one request. The NBRM forms the list each business day (datum_f)
// and it applies from the next calendar day (datum), Friday's for
// Saturday through Monday: the service repeats each list under every day
// it applies to. Each row is a middle rate (sreden, a JSON number) in
// denars for nomin units of a currency (1 for all 31 the list holds
// today), read as the decimal it was printed from (see
// provider.FloatText) and shifted exactly to one unit; it becomes a set
// with Base = that currency and one rate Quote = MKD. CES keeps one
// publication per list, dated the day the NBRM formed it (see
// PublicationTime), as it does the CBR's.
package nbrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBRM rate.
const Name = "nbrm"

// DefaultBaseURL is the root of the NBRM's exchange-rate service.
const DefaultBaseURL = "https://www.nbrm.mk/KLServiceNOV"

// Home is North Macedonia's currency, the quote of every rate.
const Home = "MKD"

const ratePath = "/GetExchangeRate"

// PublicationTime is the as_of CES gives a list the NBRM formed on day:
// 16:00 UTC that day (17:00 in Skopje in winter, 18:00 in summer), the
// close of the business day on which it was formed. The service gives the
// formation date and no hour, so the rate is never claimed earlier than
// it could be known; the catalogue polls after it.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, time.UTC)
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// row is one rate of the list.
type row struct {
	Applies string      `json:"datum"`
	Formed  string      `json:"datum_f"`
	Code    string      `json:"oznaka"`
	Units   json.Number `json:"nomin"`
	Middle  json.Number `json:"sreden"`
}

// day reads the date part of the service's timestamps, 2026-05-22T00:00:00.
func day(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05", strings.TrimSpace(s))
}

// Parse reads the service's answer into one publication per formation
// date, oldest first and, within a date, by Base. The rows a list repeats
// under the days it applies to must agree; a code whose values differ
// within one list makes the answer invalid.
func Parse(payload []byte) ([]fx.RateSet, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var rows []row
	if err := dec.Decode(&rows); err != nil {
		return nil, invalid("not an exchange rate list: %v", err)
	}
	lists := map[time.Time][]provider.Foreign{}
	for i, r := range rows {
		formed, err := day(r.Formed)
		if err != nil {
			return nil, invalid("row %d (%s): datum_f %q is not a date", i, r.Code, r.Formed)
		}
		if _, err := day(r.Applies); err != nil {
			return nil, invalid("row %d (%s): datum %q is not a date", i, r.Code, r.Applies)
		}
		if r.Middle == "" || r.Units == "" {
			return nil, invalid("row %d (%s): no sreden or nomin", i, r.Code)
		}
		units, err := r.Units.Int64()
		if err != nil {
			return nil, invalid("row %d (%s): nomin %q is not a whole number", i, r.Code, r.Units)
		}
		middle, err := provider.FloatText(r.Middle.String())
		if err != nil {
			return nil, invalid("row %d (%s): sreden %q: %v", i, r.Code, r.Middle, err)
		}
		lists[formed] = append(lists[formed], provider.Foreign{Code: r.Code, Value: middle.String(), Units: units})
	}
	dates := make([]time.Time, 0, len(lists))
	for d := range lists {
		dates = append(dates, d)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	var sets []fx.RateSet
	for _, d := range dates {
		published, err := provider.ForeignSets(Name, Home, PublicationTime(d), payload, lists[d])
		if err != nil {
			return nil, err
		}
		sets = append(sets, published...)
	}
	return sets, nil
}

// Client fetches the NBRM's lists over HTTP (or from a file URL, see
// provider.Get).
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

// latestWindow is how far back Latest looks: longer than any run of
// Macedonian holidays and weekend.
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest list whose as_of is not after now, from one
// request for the days of the last two weeks up to tomorrow (a list
// formed today applies from tomorrow).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now()
	today := provider.Date(now.UTC())
	sets, err := c.get(ctx, today.Add(-latestWindow), today.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	var last time.Time
	for _, s := range sets {
		if !s.AsOf.After(now) && s.AsOf.After(last) {
			last = s.AsOf
		}
	}
	if last.IsZero() {
		return nil, invalid("no list formed in the last two weeks")
	}
	var out []fx.RateSet
	for _, s := range sets {
		if s.AsOf.Equal(last) {
			out = append(out, s)
		}
	}
	return out, nil
}

// History returns the lists formed from to to (inclusive), oldest first
// and, within a date, by Base, from one request: a list formed on a day
// applies from the next, so the days asked for are from+1 to to+1.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from).AddDate(0, 0, 1), provider.Date(to).AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get asks for the lists applying on the days from to to.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	q := url.Values{
		"StartDate": {from.Format("02.01.2006")},
		"EndDate":   {to.Format("02.01.2006")},
		"format":    {"json"},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+ratePath+"?"+q.Encode())
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			// One endpoint serves every range: a 404 means a wrong base URL.
			return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return nil, err
	}
	return Parse(body)
}
