// Package imf reads the International Monetary Fund's representative
// exchange rates: the rates about forty issuing central banks report to
// the Fund, one column per IMF business day, served a calendar month per
// request as the tab-separated "REP" report of rms_mth.aspx, no API key.
// Terms: https://www.imf.org/en/about/copyright-and-terms.
//
// The report expresses rates in currency units per U.S. dollar, except
// for the currencies whose name carries the footnote mark "(1)", which
// are in U.S. dollars per currency unit. CES keeps each as written: per
// date, one set with Base USD holding the first kind, and one set per
// marked currency with that currency as Base and USD as its quote.
// Currencies are named, not coded: names maps them to ISO 4217, and an
// unknown name, or a footnote mark other than (1) (whose direction the
// report does not state in a form read here), is skipped. "NA" cells are
// rates not reported that day. Thousands are grouped with commas.
package imf

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Washington local time; images may lack tzdata

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every IMF rate.
const Name = "imf"

// DefaultBaseURL is where the IMF serves its exchange-rate reports.
const DefaultBaseURL = "https://www.imf.org/external/np/fin/data"

// Dollar is the currency the report quotes every rate against.
const Dollar = "USD"

var washington = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives the representative rates of a
// date: 18:00 in Washington (EST or EDT) on that date, 22:00 or 23:00 UTC.
// The report gives dates only; the IMF publishes the day's rates in the
// Washington afternoon, so its close is no earlier than they are known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, washington).UTC()
}

// names maps the report's currency names, lower-cased and without the
// footnote mark, to ISO 4217 codes.
var names = map[string]string{
	"chinese yuan": "CNY", "euro": "EUR", "japanese yen": "JPY", "u.k. pound": "GBP", "u.s. dollar": "USD",
	"algerian dinar": "DZD", "australian dollar": "AUD", "botswana pula": "BWP", "brazilian real": "BRL",
	"brunei dollar": "BND", "canadian dollar": "CAD", "chilean peso": "CLP", "czech koruna": "CZK",
	"danish krone": "DKK", "indian rupee": "INR", "israeli new shekel": "ILS", "korean won": "KRW",
	"kuwaiti dinar": "KWD", "malaysian ringgit": "MYR", "mauritian rupee": "MUR", "mexican peso": "MXN",
	"new zealand dollar": "NZD", "norwegian krone": "NOK", "omani rial": "OMR", "peruvian sol": "PEN",
	"philippine peso": "PHP", "polish zloty": "PLN", "qatari riyal": "QAR", "saudi arabian riyal": "SAR",
	"singapore dollar": "SGD", "swedish krona": "SEK", "swiss franc": "CHF", "thai baht": "THB",
	"trinidadian dollar": "TTD", "u.a.e. dirham": "AED", "uruguayan peso": "UYU",
	// Names the IMF has used for currencies no longer in the report.
	"colombian peso": "COP", "bahrain dinar": "BHD", "iranian rial": "IRR", "kazakhstani tenge": "KZT",
	"nepalese rupee": "NPR", "pakistani rupee": "PKR", "russian ruble": "RUB", "south african rand": "ZAR",
	"sri lankan rupee": "LKR", "hungarian forint": "HUF", "indonesian rupiah": "IDR", "icelandic krona": "ISK",
}

func init() {
	for name, code := range names {
		if _, ok := fx.LookupCurrency(code); !ok {
			panic("imf: " + name + " maps to " + code + ", no ISO 4217 currency")
		}
	}
}

// mark is a trailing footnote mark, "Euro(1)".
var mark = regexp.MustCompile(`\((\d+)\)\s*$`)

// Parse reads a REP report (one or more blocks, each a "Currency" header
// row of dates and one row per currency) into RateSets, newest first,
// then by Base: per date, a USD-based set of the currency-per-dollar
// rates, and a set per dollar-per-currency ("(1)") rate, as_of
// PublicationTime of the date. Unknown names and other marks are recorded
// in Skipped of the date's first set. A date whose cells are all NA
// yields no set.
func Parse(payload []byte) ([]fx.RateSet, error) {
	type cell struct{ base, quote, value string }
	byDate := map[time.Time][]cell{}
	skipped := map[time.Time]map[string]bool{}
	var header []time.Time
	sawHeader := false
	sc := bufio.NewScanner(bytes.NewReader(payload))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !strings.Contains(line, "\t") {
			header = nil // a title, blank or note line ends a block
			continue
		}
		fields := strings.Split(line, "\t")
		label := strings.TrimSpace(fields[0])
		if label == "Currency" {
			header = header[:0]
			for _, f := range fields[1:] {
				d, err := time.Parse("January 02, 2006", strings.TrimSpace(f))
				if err != nil {
					return nil, invalid("header date %q is not like March 02, 2026", f)
				}
				header = append(header, d)
			}
			sawHeader = true
			continue
		}
		if header == nil {
			return nil, invalid("rate row %q comes before any Currency header", label)
		}
		if len(fields)-1 != len(header) {
			return nil, invalid("row %q has %d rates for %d dates", label, len(fields)-1, len(header))
		}
		name, footnote := label, ""
		if m := mark.FindStringSubmatch(label); m != nil {
			name, footnote = strings.TrimSpace(label[:len(label)-len(m[0])]), m[1]
		}
		code, known := names[strings.ToLower(name)]
		for i, f := range fields[1:] {
			v := strings.ReplaceAll(strings.TrimSpace(f), ",", "")
			if v == "NA" || v == "" {
				continue
			}
			day := header[i]
			if !known || (footnote != "" && footnote != "1") {
				if skipped[day] == nil {
					skipped[day] = map[string]bool{}
				}
				skipped[day][label] = true
				continue
			}
			if footnote == "1" {
				byDate[day] = append(byDate[day], cell{code, Dollar, v})
			} else {
				byDate[day] = append(byDate[day], cell{Dollar, code, v})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, invalid("read report: %v", err)
	}
	if !sawHeader {
		return nil, invalid("not a representative-rates report: no Currency header row")
	}

	var sets []fx.RateSet
	for day, cells := range byDate {
		asOf := PublicationTime(day)
		builders := map[string]*provider.Builder{}
		for _, c := range cells {
			b := builders[c.base]
			if b == nil {
				var err error
				if b, err = provider.NewBuilder(Name, c.base, asOf, payload); err != nil {
					return nil, err
				}
				builders[c.base] = b
			}
			if err := b.Add(c.quote, c.value); err != nil {
				return nil, fmt.Errorf("%w (%s/%s on %s)", err, c.base, c.quote, day.Format(time.DateOnly))
			}
		}
		var daySets []fx.RateSet
		for base, b := range builders {
			set, err := b.Build()
			if err != nil {
				if base == Dollar {
					continue // only the dollar's own 1.000000: no currency-per-dollar rate that day
				}
				return nil, err
			}
			daySets = append(daySets, set)
		}
		if len(daySets) == 0 {
			continue
		}
		sort.Slice(daySets, func(i, j int) bool { return daySets[i].Base < daySets[j].Base })
		for label := range skipped[day] {
			daySets[0].Skipped = append(daySets[0].Skipped, label)
		}
		sort.Strings(daySets[0].Skipped)
		sets = append(sets, daySets...)
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.After(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches IMF reports over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest date's sets from this month's report (by
// Washington date), or from last month's when this month has none yet.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(washington))
	monthStart := today.AddDate(0, 0, 1-today.Day())
	for _, day := range []time.Time{today, monthStart.AddDate(0, 0, -1)} {
		sets, err := c.get(ctx, day)
		if err != nil {
			return nil, err
		}
		if len(sets) > 0 {
			n := 1
			for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
				n++
			}
			return sets[:n:n], nil
		}
	}
	return nil, provider.Permanent(provider.TypeNoRatesForDate,
		fmt.Errorf("provider %s: no rates this month or last, to %s", Name, today.Format(time.DateOnly)))
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, with one request per calendar month of the
// range: the report serves a month at a time.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	first, last := provider.Date(from), provider.Date(to)
	var all []fx.RateSet
	for m := first.AddDate(0, 0, 1-first.Day()); !m.After(last); m = m.AddDate(0, 1, 0) {
		// Ask for the month's last day, or the range's end within it.
		day := m.AddDate(0, 1, -1)
		if day.After(last) {
			day = last
		}
		sets, err := c.get(ctx, day)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

// get fetches the REP report of the month holding day, up to day.
func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{}
	q.Set("SelectDate", day.Format(time.DateOnly))
	q.Set("reportType", "REP")
	q.Set("tsvflag", "Y")
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/rms_mth.aspx?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
