// Package dnb reads Danmarks Nationalbank's daily exchange rates as
// Statistics Denmark's StatBank serves them: table DNVALD, rate type KBH
// (the Nationalbank's daily rates), kroner per 100 units of each foreign
// currency, one row per currency and banking day, published once per
// Danish banking day in the afternoon. The StatBank API is keyless and
// its data are free to use with the source named (Creative Commons BY
// 4.0); the Nationalbank publishes no separate terms for the series.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the DKK price of one unit: the per-100 value divided exactly (a
// decimal shift, every digit kept), never inverted.
package dnb

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
	_ "time/tzdata" // the publication time is Copenhagen local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Nationalbank rate.
const Name = "dnb"

// DefaultBaseURL is the root of Statistics Denmark's StatBank API.
const DefaultBaseURL = "https://api.statbank.dk/v1"

// Quote is the currency every Nationalbank rate is quoted in.
const Quote = "DKK"

// path asks for table DNVALD in the BULK format (semicolon-separated CSV).
const path = "/data/DNVALD/BULK"

// currencies are the VALUTA codes CES asks for: the table's foreign
// currencies with ISO 4217 codes (BGN stays listed: the table marks its
// days since the euro changeover ".." and they are skipped).
var currencies = []string{
	"EUR", "USD", "GBP", "SEK", "NOK", "CHF", "CAD", "JPY", "AUD", "NZD",
	"PLN", "CZK", "HUF", "HKD", "SGD", "ZAR", "BGN", "RON", "TRY", "KRW",
	"THB", "MYR", "PHP", "IDR", "CNY", "BRL", "MXN", "INR", "ILS", "ISK",
}

var copenhagen = mustLoad("Europe/Copenhagen")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a Nationalbank rate date: 17:00
// Copenhagen time (CET or CEST) on that date, the close of the Danish
// business day. The table gives only the date and the Nationalbank sets
// its rates in the afternoon, so the close of that day never claims a
// rate before it could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, copenhagen).UTC()
}

// tidLayout is StatBank's day notation, 2026M03D31.
const tidLayout = "2006M01D02"

// Parse reads a DNVALD BULK answer (VALUTA;KURTYP;TID;INDHOLD) into one
// RateSet per (date, currency): Base is the currency, its one rate the
// DKK value of one unit (INDHOLD, per 100, shifted two places), as_of
// PublicationTime of the date. Sets come newest first, then by Base. A
// value of ".." is StatBank's mark for no rate that day. Codes that are
// no ISO 4217 currency are named in Skipped of the first set of their
// date. A header with no rows yields no sets.
func Parse(payload []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(payload, []byte("\ufeff"))))
	r.Comma = ';'
	header, err := r.Read()
	if err != nil {
		return nil, invalid("not StatBank BULK CSV: %v", err)
	}
	if strings.Join(header, ";") != "VALUTA;KURTYP;TID;INDHOLD" {
		return nil, invalid("not DNVALD BULK CSV: header %q", strings.Join(header, ";"))
	}
	type key struct{ date, code string }
	values := map[key]string{}
	days := map[string]time.Time{}
	skipped := map[string][]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("CSV: %v", err)
		}
		code, kind, tid, v := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2]), strings.TrimSpace(rec[3])
		if kind != "KBH" {
			return nil, invalid("rate type %q, want KBH", kind)
		}
		day, err := time.Parse(tidLayout, tid)
		if err != nil {
			return nil, invalid("TID %q is not like 2026M03D31", tid)
		}
		if v == ".." || v == "" {
			continue
		}
		date := day.Format(time.DateOnly)
		days[date] = day
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped[date] = append(skipped[date], code)
			continue
		}
		d, err := decimal.NewFromString(v)
		if err != nil {
			return nil, invalid("%s on %s: %q is not a number", code, date, v)
		}
		k := key{date, code}
		if _, dup := values[k]; dup {
			return nil, invalid("%s on %s appears twice", code, date)
		}
		// Kroner per 100 units, per one unit: an exact shift.
		values[k] = fx.Exact(d.Shift(-2))
	}
	byDate := map[string][]fx.RateSet{}
	for k, v := range values {
		b, err := provider.NewBuilder(Name, k.code, PublicationTime(days[k.date]), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, v); err != nil {
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
			return nil, invalid("%s has no usable rates (only %s)", date, strings.Join(skipped[date], ", "))
		}
		sort.Slice(day, func(i, j int) bool { return day[i].Base < day[j].Base })
		s := skipped[date]
		sort.Strings(s)
		day[0].Skipped = s
		sets = append(sets, day...)
	}
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches Nationalbank rates from StatBank over HTTP (or from a
// file URL, see provider.Get).
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
// Danish holidays and weekend (Christmas to New Year, Easter).
const latestWindow = 14 * 24 * time.Hour

// Latest returns the newest publication of the last two weeks, one set
// per currency, from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, c.now().In(copenhagen).Add(-latestWindow))
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, invalid("no rates in the last two weeks")
	}
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n], nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request for every day since from (the
// form StatBank's time filter takes, ">=" a day); days after to are
// dropped here.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, provider.Date(from))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

func (c *Client) get(ctx context.Context, from time.Time) ([]fx.RateSet, error) {
	q := url.Values{
		"lang":              {"en"},
		"valuePresentation": {"Code"},
		"VALUTA":            {strings.Join(currencies, ",")},
		"KURTYP":            {"KBH"},
		"Tid":               {">=" + from.Format(tidLayout)},
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
