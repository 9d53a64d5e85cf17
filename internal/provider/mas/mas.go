// Package mas reads the Monetary Authority of Singapore's daily exchange
// rates from its statistics database (eservices.mas.gov.sg, the
// ExchangeRates.aspx page), keyless: Singapore dollars per one euro, pound
// sterling and US dollar, and per 100 units of 18 other currencies (yen,
// won, rupiah, ...), one row per Singapore business day. MAS notes that
// daily figures are values as of noon. The page is an ASP.NET form: CES
// reads the form (its view state and currency check boxes), then posts it
// back asking for the CSV download of a range of months, so any range
// costs two requests. CES stores each rate per ONE unit (per-100 columns
// shifted two places, exactly). No terms-of-use URL is recorded for it
// (the publisher metadata has none); the MAS website's terms apply.
package mas

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every MAS rate.
const Name = "mas"

// DefaultBaseURL is the root of MAS's statistics pages.
const DefaultBaseURL = "https://eservices.mas.gov.sg/statistics/msb"

// page is the exchange-rate form, relative to the base URL.
const page = "ExchangeRates.aspx"

// Quote is the currency every MAS rate is quoted in: a set's Base is the
// foreign currency and its single rate the Singapore-dollar price of one
// unit.
const Quote = "SGD"

// singapore is Singapore Standard Time, UTC+8 all year, so a fixed zone is
// exact.
var singapore = time.FixedZone("SGT", 8*60*60)

// PublicationTime is the as_of CES gives a MAS rate date: 18:00 in
// Singapore (10:00 UTC). The figures are values as of noon, but MAS adds
// the day's row to its database only later in the day (the recordings'
// metadata polls from 18:00 Singapore time); an as_of at the publication
// hour never claims a rate before it could be read.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, singapore).UTC()
}

// names maps the currency names of the CSV's column headings (and of the
// form's check boxes) to ISO 4217 codes. A heading not listed is skipped.
var names = map[string]string{
	"Euro": "EUR", "Pound Sterling": "GBP", "US Dollar": "USD",
	"Australian Dollar": "AUD", "Canadian Dollar": "CAD", "Chinese Renminbi": "CNY",
	"Hong Kong Dollar": "HKD", "Indian Rupee": "INR", "Indonesian Rupiah": "IDR",
	"Japanese Yen": "JPY", "Korean Won": "KRW", "Malaysian Ringgit": "MYR",
	"New Taiwan Dollar": "TWD", "New Zealand Dollar": "NZD", "Philippine Peso": "PHP",
	"Qatar Riyal": "QAR", "Saudi Arabia Riyal": "SAR", "Swiss Franc": "CHF",
	"Thai Baht": "THB", "UAE Dirham": "AED", "Vietnamese Dong": "VND",
}

// heading matches a rate column's heading: S$ per 1 or per 100 units.
var heading = regexp.MustCompile(`^S\$ Per (Unit|100 Units) of (.+)$`)

type column struct {
	index int
	code  string
	shift int32
}

// Parse reads the daily "Exchange Rates" CSV download into one RateSet per
// (day, currency), oldest first and, within a day, by Base: Singapore
// dollars per ONE unit, as_of PublicationTime of the day. Year and month
// are written only where they change, so they carry down. Empty cells
// (a currency not quoted that day) are left out; a heading whose currency
// is not in names is skipped. name names the sets.
func Parse(name string, body []byte) ([]fx.RateSet, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	records, err := r.ReadAll()
	if err != nil {
		return nil, provider.Invalid("provider %s: not a CSV download: %v", name, err)
	}
	head := -1
	daily := false
	for i, rec := range records {
		first := strings.TrimSpace(rec[0])
		if first == "Exchange Rates (Daily)" {
			daily = true
		}
		if first == "End of Period" {
			head = i
			break
		}
	}
	if head < 0 || !daily {
		return nil, provider.Invalid("provider %s: no daily exchange-rate table (heading \"End of Period\")", name)
	}
	var cols []column
	for i, h := range records[head] {
		if i < 3 {
			continue
		}
		m := heading.FindStringSubmatch(strings.TrimSpace(h))
		if m == nil {
			return nil, provider.Invalid("provider %s: column %d heading %q is not \"S$ Per ... of <currency>\"", name, i, h)
		}
		code, ok := names[m[2]]
		if !ok {
			continue
		}
		var shift int32
		if m[1] == "100 Units" {
			shift = -2
		}
		cols = append(cols, column{index: i, code: code, shift: shift})
	}
	if len(cols) == 0 {
		return nil, provider.Invalid("provider %s: the table has no known currency", name)
	}

	var sets []fx.RateSet
	year, month := "", ""
	seen := map[string]bool{}
	for _, rec := range records[head+1:] {
		if len(rec) < 3 || strings.TrimSpace(rec[2]) == "" {
			if strings.Join(rec, "") == "" || strings.HasPrefix(strings.TrimSpace(rec[0]), "*") {
				continue // blank line or footnote
			}
			return nil, provider.Invalid("provider %s: row %q has no day", name, strings.Join(rec, ","))
		}
		if y := strings.TrimSpace(rec[0]); y != "" {
			year = y
		}
		if m := strings.TrimSpace(rec[1]); m != "" {
			month = m
		}
		day, err := time.Parse("2006 Jan 02", year+" "+month+" "+strings.TrimSpace(rec[2]))
		if err != nil {
			return nil, provider.Invalid("provider %s: row date %s %s %s: %v", name, year, month, rec[2], err)
		}
		date := day.Format(time.DateOnly)
		if seen[date] {
			return nil, provider.Invalid("provider %s: %s appears twice", name, date)
		}
		seen[date] = true
		for _, c := range cols {
			if c.index >= len(rec) {
				continue
			}
			cell := strings.TrimSpace(rec[c.index])
			if cell == "" || cell == "-" || cell == "na" {
				continue
			}
			v, err := decimal.NewFromString(cell)
			if err != nil {
				return nil, provider.Invalid("provider %s: %s on %s: %q is not a number", name, c.code, date, cell)
			}
			b, err := provider.NewBuilder(name, c.code, PublicationTime(day), body)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, fx.Exact(v.Shift(c.shift))); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, c.code, date)
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

var (
	inputTag  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	selectTag = regexp.MustCompile(`(?is)<select\b[^>]*>`)
	attr      = regexp.MustCompile(`(?is)\b(name|type|value)\s*=\s*"([^"]*)"`)
	rateBox   = regexp.MustCompile(`EndOfPeriodPer(Unit|100Units)CheckBoxList\$\d+$`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// Form returns the postback that asks the page for the daily CSV of the
// months from first to last: the page's hidden fields (view state, event
// validation) as given, every end-of-period currency check box ticked,
// the range and the daily frequency in its drop-down lists, and its
// Download button. An answer without the view state or those fields is
// not the form.
func Form(name string, pageHTML []byte, first, last time.Time) (url.Values, error) {
	s := string(pageHTML)
	form := url.Values{}
	boxes := 0
	download := false
	for _, tag := range inputTag.FindAllString(s, -1) {
		a := attrs(tag)
		switch n := a["name"]; {
		case n == "":
		case strings.EqualFold(a["type"], "hidden"):
			form.Set(n, a["value"])
		case strings.EqualFold(a["type"], "checkbox") && rateBox.MatchString(n):
			form.Set(n, "on")
			boxes++
		case strings.EqualFold(a["type"], "submit") && strings.HasSuffix(n, "$DownloadButton"):
			form.Set(n, a["value"])
			download = true
		}
	}
	want := map[string]string{
		"StartYearDropDownList":  strconv.Itoa(first.Year()),
		"StartMonthDropDownList": strconv.Itoa(int(first.Month())),
		"EndYearDropDownList":    strconv.Itoa(last.Year()),
		"EndMonthDropDownList":   strconv.Itoa(int(last.Month())),
		"FrequencyDropDownList":  "D",
	}
	for _, tag := range selectTag.FindAllString(s, -1) {
		n := attrs(tag)["name"]
		for suffix, v := range want {
			if strings.HasSuffix(n, "$"+suffix) {
				form.Set(n, v)
				delete(want, suffix)
			}
		}
	}
	if form.Get("__VIEWSTATE") == "" || boxes == 0 || !download || len(want) > 0 {
		return nil, provider.Invalid("provider %s: the exchange-rate page is not the expected form (view state, %d currency boxes, download button %v, missing lists %d)",
			name, boxes, download, len(want))
	}
	return form, nil
}

// Client fetches MAS rates over HTTP.
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
	if hc == nil {
		hc = provider.NewHTTPClient(0)
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: hc, now: time.Now}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest day's rates, one set per currency, from the
// current and the previous month (two requests).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(singapore)
	sets, err := c.fetch(ctx, now.AddDate(0, 0, -now.Day()), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: no daily rate in the last two months", Name)
	}
	newest := provider.Date(sets[len(sets)-1].AsOf.In(singapore))
	return provider.Between(sets, newest, newest), nil
}

// History returns the rates dated from to to (inclusive), oldest first
// and, within a day, by Base: two requests (the form, then its CSV for
// every month of the range).
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.fetch(ctx, provider.Date(from), provider.Date(to))
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// fetch reads the form and posts it back for the months of first to last.
// The two requests share a fresh cookie jar: the site's load balancer and
// firewall tie the postback to the session the form was served in.
func (c *Client) fetch(ctx context.Context, first, last time.Time) ([]fx.RateSet, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("provider %s: cookie jar: %w", Name, err)
	}
	hc := *c.http
	hc.Jar = jar
	u := c.baseURL + "/" + page
	pageHTML, err := provider.Get(ctx, &hc, Name, u)
	if err != nil {
		return nil, err
	}
	form, err := Form(Name, pageHTML, first, last)
	if err != nil {
		return nil, err
	}
	body, err := provider.PostForm(ctx, &hc, Name, u, form)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}
