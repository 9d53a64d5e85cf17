// Package boe reads the Bank of England's daily spot exchange rates from
// its Interactive Statistical Database: a CSV export of the XUDL series,
// one column per currency, each value the units of that currency that one
// pound sterling buys (XUDLUSS is US dollars into sterling). The rates are
// the mid-market rates the Bank's foreign exchange desk observes at about
// 16:00 London time, published once per UK business day. Keyless; terms
// at https://www.bankofengland.co.uk/legal.
//
// One set per day: Base = GBP, one rate per foreign currency, as
// published.
package boe

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is London local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Bank of England rate.
const Name = "boe"

// DefaultBaseURL is the root of the Bank of England's statistical database.
const DefaultBaseURL = "https://www.bankofengland.co.uk/boeapps/database"

// Base is the currency every Bank of England rate is quoted against.
const Base = "GBP"

// export is the database's CSV export page.
const export = "/_iadb-fromshowcolumns.asp"

// series maps the database's daily spot series (XUDL...S and XUDLBK..,
// "<currency> into sterling") to ISO 4217 codes. The codes are the Bank's
// own; each value was checked against the recording's level (RON near 5.9
// per pound, KRW near 2000, ...).
var series = map[string]string{
	"XUDLUSS": "USD", "XUDLERS": "EUR", "XUDLJYS": "JPY", "XUDLCDS": "CAD",
	"XUDLSFS": "CHF", "XUDLADS": "AUD", "XUDLNDS": "NZD", "XUDLNKS": "NOK",
	"XUDLSKS": "SEK", "XUDLDKS": "DKK", "XUDLHDS": "HKD", "XUDLSGS": "SGD",
	"XUDLSRS": "SAR", "XUDLZRS": "ZAR", "XUDLTWS": "TWD", "XUDLBK25": "CZK",
	"XUDLBK33": "HUF", "XUDLBK47": "PLN", "XUDLBK78": "ILS", "XUDLBK83": "MYR",
	"XUDLBK87": "THB", "XUDLBK89": "CNY", "XUDLBK93": "KRW", "XUDLBK95": "TRY",
	"XUDLBK97": "INR", "XUDLZOS4": "RON",
}

// seriesCodes is series' keys in a fixed order, as the request names them.
var seriesCodes = func() []string {
	keys := make([]string, 0, len(series))
	for k, code := range series {
		if _, ok := fx.LookupCurrency(code); !ok {
			panic("boe: " + code + " is not an ISO 4217 currency")
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}()

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a Bank of England rate date:
// 17:00 London time (GMT or BST) on that date. The rates are observed at
// about 16:00 and appear in the database after that; the file gives only
// the date, so CES takes an hour after the observation, never before the
// rate could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, london).UTC()
}

// Parse reads the database's CSV export (CSVF=TN, UsingCodes=Y: a DATE
// column, dates as "17 Mar 2026", then one column per series code) into
// one RateSet per date, Base GBP, newest first. An empty cell is a series
// not published that day. Columns naming series outside the table are
// named in Skipped. A header with no rows yields no sets (a range without
// business days); anything not starting with the DATE header is invalid,
// as the database answers a bad request with an HTML page.
func Parse(payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(payload, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, invalid("not the database's CSV export: %v", err)
	}
	if len(header) < 2 || strings.TrimSpace(header[0]) != "DATE" {
		return nil, invalid("not the database's CSV export: first column is not DATE")
	}
	codes := make([]string, len(header))
	var skipped []string
	for i, h := range header[1:] {
		h = strings.TrimSpace(h)
		if code, ok := series[h]; ok {
			codes[i+1] = code
		} else {
			skipped = append(skipped, h)
		}
	}
	sort.Strings(skipped)
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
		if len(rec) != len(header) {
			return nil, invalid("row %q has %d fields, the header %d", rec[0], len(rec), len(header))
		}
		day, err := time.Parse("2 Jan 2006", strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, invalid("date %q is not like 17 Mar 2026", rec[0])
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
			code := codes[i+1]
			if code == "" || strings.TrimSpace(v) == "" {
				continue
			}
			if err := b.Add(code, v); err != nil {
				return nil, err
			}
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		set.Skipped = skipped
		sets = append(sets, set)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.After(sets[j].AsOf) })
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches Bank of England rates over HTTP (or from a file URL, see
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

// latestWindow is how far back Latest looks: long enough to span the
// longest run of UK bank holidays and weekend (Christmas to New Year).
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest day of the last two weeks, from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(london)
	sets, err := c.get(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last two weeks")
	}
	return sets[:1], nil
}

// History returns the days dated from to to (inclusive), oldest first,
// from one request: the export serves a date range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from), provider.Date(to))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	q := url.Values{
		"csv.x":       {"yes"},
		"SeriesCodes": {strings.Join(seriesCodes, ",")},
		"UsingCodes":  {"Y"},
		"CSVF":        {"TN"},
		"Datefrom":    {from.Format("02/Jan/2006")},
		"Dateto":      {to.Format("02/Jan/2006")},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+export+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
