// Package cbr reads the Central Bank of Russia's official exchange rates
// of foreign currencies against the rouble from its XML service
// (https://www.cbr.ru/scripts/): about 55 currencies, each a Value in
// roubles for a Nominal of foreign units (1, 10, 100, 1000, 10000 or
// 1000000: DZD per 100, VND per 10000). The Bank sets the rates each
// Russian business day; they take effect the next calendar day, and the
// XML dates every rate by that effective day (rates set on Friday are dated
// Saturday and stay in force until Tuesday's); CES dates it by the day it
// was published, the day before (see PublicationTime). Keyless; terms at
// https://www.cbr.ru/eng/user_agreement/.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the RUB price of one unit: a rate per Nominal units is divided
// exactly (a decimal shift, every digit kept), never inverted.
package cbr

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBR rate.
const Name = "cbr"

// DefaultBaseURL is the root of the CBR's XML scripts.
const DefaultBaseURL = "https://www.cbr.ru/scripts"

// Quote is the currency every CBR rate is quoted in.
const Quote = "RUB"

// moscow is Moscow time, UTC+3 all year since 2014, as a fixed zone.
var moscow = time.FixedZone("MSK", 3*60*60)

// PublicationTime is the as_of CES gives a rate the XML dates day (the day
// it takes effect): 18:00 Moscow time on the day before, the close of the
// business day on which the Bank set it. The Bank sets the rates of each
// business day for the next calendar day (Friday's for Saturday, carried
// over Sunday and Monday), from trades up to 15:30 Moscow time, so the
// rate is published that afternoon and never claimed earlier than it
// could be known. The as_of date is thus the publication date, one day
// before the Bank's own label.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day()-1, 18, 0, 0, 0, moscow).UTC()
}

// daily is XML_daily.asp's answer: the rates in force on one date.
type daily struct {
	XMLName xml.Name `xml:"ValCurs"`
	Date    string   `xml:"Date,attr"`
	Valutes []struct {
		ID       string `xml:"ID,attr"`
		CharCode string `xml:"CharCode"`
		Nominal  string `xml:"Nominal"`
		Value    string `xml:"Value"`
	} `xml:"Valute"`
}

// dynamic is XML_dynamic.asp's answer: one currency over a date range.
type dynamic struct {
	XMLName xml.Name `xml:"ValCurs"`
	ID      string   `xml:"ID,attr"`
	Records []struct {
		Date    string `xml:"Date,attr"`
		Nominal string `xml:"Nominal"`
		Value   string `xml:"Value"`
	} `xml:"Record"`
}

// decode reads the Bank's windows-1251 XML. Only the currency names use
// letters beyond ASCII and CES reads none of them, so the charset reader
// replaces every non-ASCII byte rather than pulling in a code page table.
func decode(payload []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(payload))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if !strings.EqualFold(label, "windows-1251") {
			return nil, fmt.Errorf("unexpected charset %q", label)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		for i, c := range b {
			if c >= 0x80 {
				b[i] = '?'
			}
		}
		return bytes.NewReader(b), nil
	}
	return dec.Decode(v)
}

// perUnit turns a Value for nominal units ("57,0006" for 100) into the
// rouble price of one unit as exact text. A nominal that is not a power
// of ten could not be divided exactly and is refused.
func perUnit(nominal, value string) (string, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(nominal), 10, 64)
	if err != nil || n == 0 {
		return "", fmt.Errorf("nominal %q is not 1, 10, 100, ...", nominal)
	}
	var places int32
	for n%10 == 0 {
		n /= 10
		places++
	}
	if n != 1 {
		return "", fmt.Errorf("nominal %q is not 1, 10, 100, ...", nominal)
	}
	d, err := decimal.NewFromString(strings.Replace(strings.TrimSpace(value), ",", ".", 1))
	if err != nil {
		return "", fmt.Errorf("value %q is not a number", value)
	}
	return fx.Exact(d.Shift(-places)), nil
}

func parseDate(s string) (time.Time, error) {
	return time.Parse("02.01.2006", strings.TrimSpace(s))
}

// set builds the one-rate set of code on day.
func set(code string, day time.Time, value string, payload []byte) (fx.RateSet, error) {
	b, err := provider.NewBuilder(Name, code, PublicationTime(day), payload)
	if err != nil {
		return fx.RateSet{}, err
	}
	if err := b.Add(Quote, value); err != nil {
		return fx.RateSet{}, fmt.Errorf("%w (%s on %s)", err, code, day.Format(time.DateOnly))
	}
	return b.Build()
}

// ParseDaily reads an XML_daily.asp answer into one RateSet per ISO 4217
// currency, sorted by Base, and the map from the Bank's internal currency
// IDs (R01235) to their codes, which XML_dynamic.asp needs. Codes that are
// no ISO 4217 currency are named in Skipped of the first set.
func ParseDaily(payload []byte) ([]fx.RateSet, map[string]string, error) {
	var doc daily
	if err := decode(payload, &doc); err != nil {
		return nil, nil, invalid("not a CBR daily answer: %v", err)
	}
	day, err := parseDate(doc.Date)
	if err != nil {
		return nil, nil, invalid("daily Date %q is not DD.MM.YYYY", doc.Date)
	}
	if len(doc.Valutes) == 0 {
		return nil, nil, invalid("daily answer for %s has no rates", doc.Date)
	}
	var sets []fx.RateSet
	var skipped []string
	ids := map[string]string{}
	seen := map[string]bool{}
	for _, v := range doc.Valutes {
		code := strings.TrimSpace(v.CharCode)
		if seen[code] {
			return nil, nil, invalid("%s appears twice on %s", code, doc.Date)
		}
		seen[code] = true
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped = append(skipped, code)
			continue
		}
		value, err := perUnit(v.Nominal, v.Value)
		if err != nil {
			return nil, nil, invalid("%s on %s: %v", code, doc.Date, err)
		}
		s, err := set(code, day, value, payload)
		if err != nil {
			return nil, nil, err
		}
		sets = append(sets, s)
		if id := strings.TrimSpace(v.ID); id != "" {
			ids[id] = code
		}
	}
	if len(sets) == 0 {
		return nil, nil, invalid("%s has no usable rates (only %s)", doc.Date, strings.Join(skipped, ", "))
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, ids, nil
}

// ParseDynamic reads an XML_dynamic.asp answer for the currency code into
// one RateSet per record, oldest first. A range without records (before
// the currency was quoted) yields none.
func ParseDynamic(payload []byte, code string) ([]fx.RateSet, error) {
	var doc dynamic
	if err := decode(payload, &doc); err != nil {
		return nil, invalid("not a CBR dynamic answer for %s: %v", code, err)
	}
	var sets []fx.RateSet
	seen := map[string]bool{}
	for _, r := range doc.Records {
		day, err := parseDate(r.Date)
		if err != nil {
			return nil, invalid("%s: record Date %q is not DD.MM.YYYY", code, r.Date)
		}
		if seen[r.Date] {
			return nil, invalid("%s on %s appears twice", code, r.Date)
		}
		seen[r.Date] = true
		value, err := perUnit(r.Nominal, r.Value)
		if err != nil {
			return nil, invalid("%s on %s: %v", code, r.Date, err)
		}
		s, err := set(code, day, value, payload)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches CBR rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest rates, one set per currency, from
// XML_daily.asp without a date (the rates most recently set, which may
// take effect tomorrow).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, _, err := c.daily(ctx, url.Values{})
	return sets, err
}

// History returns the sets published from to to (inclusive: the rates
// the XML dates from+1 to to+1), oldest first and, within a date, by Base.
// The Bank serves ranges only one currency at a time (XML_dynamic.asp), so
// after one request for the current currency list History picks the
// cheaper of two ways: one XML_daily.asp request per calendar day of the
// range, or one XML_dynamic.asp request per currency for the whole range.
// The second misses currencies the Bank no longer quotes.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	// The XML dates each rate by the day after its publication.
	first, last := provider.Date(from).AddDate(0, 0, 1), provider.Date(to).AddDate(0, 0, 1)
	days := provider.Days(first, last)
	_, ids, err := c.daily(ctx, url.Values{})
	if err != nil {
		return nil, err
	}
	var all []fx.RateSet
	if len(days) <= len(ids) {
		// One request per day; a weekend or holiday answers the rates
		// of the last effective date, so dates are kept once.
		seen := map[time.Time]bool{}
		for _, d := range days {
			sets, _, err := c.daily(ctx, url.Values{"date_req": {d.Format("02/01/2006")}})
			if err != nil {
				return nil, err
			}
			if !seen[sets[0].AsOf] {
				seen[sets[0].AsOf] = true
				all = append(all, sets...)
			}
		}
		return provider.Between(all, from, to), nil
	}
	codes := make([]string, 0, len(ids))
	for id := range ids {
		codes = append(codes, id)
	}
	sort.Strings(codes)
	for _, id := range codes {
		q := url.Values{
			"VAL_NM_RQ": {id},
			"date_req1": {first.Format("02/01/2006")},
			"date_req2": {last.Format("02/01/2006")},
		}
		body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/XML_dynamic.asp?"+q.Encode())
		if err != nil {
			return nil, err
		}
		sets, err := ParseDynamic(body, ids[id])
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

func (c *Client) daily(ctx context.Context, q url.Values) ([]fx.RateSet, map[string]string, error) {
	u := c.baseURL + "/XML_daily.asp"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	body, err := provider.Get(ctx, c.http, Name, u)
	if err != nil {
		return nil, nil, err
	}
	return ParseDaily(body)
}
