// Package bi reads Bank Indonesia's transaction rates (kurs transaksi BI)
// from its English web page, keyless: the rupiah price of about 25
// currencies, per one unit or per 100 (JPY) as the "Value" column says, as
// a selling and a buying rate, once per Indonesian business day. CES
// stores the middle, (sell+buy)/2 per ONE unit, exactly. The page is a
// SharePoint (ASP.NET) form: its first answer holds the latest rates of
// every currency; a time series of one currency is the answer to posting
// the form back with that currency and a date range. No terms-of-use URL
// is recorded for it (the publisher metadata has none); the site's own
// terms apply.
package bi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BI rate.
const Name = "bi"

// DefaultBaseURL is the English transaction-rate page's folder.
const DefaultBaseURL = "https://www.bi.go.id/en/statistik/informasi-kurs/transaksi-bi"

// page is the form, relative to the base URL.
const page = "default.aspx"

// Quote is the currency every BI rate is quoted in: a set's Base is the
// foreign currency and its single rate the rupiah price of one unit.
const Quote = "IDR"

// jakarta is Western Indonesia Time, UTC+7 all year, so a fixed zone is
// exact.
var jakarta = time.FixedZone("WIB", 7*60*60)

// PublicationTime is the as_of CES gives a BI rate date: 17:00 in Jakarta
// (10:00 UTC), the close of the business day. The page dates its rates
// but states no time of publication; the end of the day is never earlier
// than they could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, jakarta).UTC()
}

// amount matches a figure as the English page writes it: thousands
// separated by commas, decimals after a point.
var amount = regexp.MustCompile(`^\d{1,3}(,\d{3})*(\.\d+)?$`)

func number(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if !amount.MatchString(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a figure like 16,412.50", s)
	}
	return decimal.NewFromString(strings.ReplaceAll(s, ",", ""))
}

// unitShift returns the decimal shift that turns a price of value units
// (1, 100, "1.00") into a price of one.
func unitShift(value string) (int32, error) {
	v, err := number(value)
	if err != nil {
		return 0, err
	}
	for k := int32(0); k <= 6; k++ {
		if v.Equal(decimal.New(1, k)) {
			return -k, nil
		}
	}
	return 0, fmt.Errorf("unit %q is not a power of ten", value)
}

// middle returns the rupiah price of one unit: (sell+buy)/2 moved by
// shift. Halving a decimal is exact, so every digit is kept.
func middle(sell, buy string, shift int32) (string, error) {
	s, err := number(sell)
	if err != nil {
		return "", fmt.Errorf("selling rate: %w", err)
	}
	b, err := number(buy)
	if err != nil {
		return "", fmt.Errorf("buying rate: %w", err)
	}
	if !b.IsPositive() || s.LessThan(b) {
		return "", fmt.Errorf("selling rate %s and buying rate %s are not a positive spread", sell, buy)
	}
	return fx.Exact(s.Add(b).Mul(decimal.New(5, -1)).Shift(shift)), nil
}

// text returns the text under n, spaces collapsed, non-breaking spaces
// included.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(strings.ReplaceAll(b.String(), "\u00a0", " ")), " ")
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// table returns the rows (cell texts) of the first table whose header row
// starts with header, without that header row; false when there is none.
func table(doc *html.Node, header ...string) ([][]string, bool) {
	for _, t := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Table }) {
		var rows [][]string
		for _, tr := range find(t, func(n *html.Node) bool { return n.DataAtom == atom.Tr }) {
			var cells []string
			for _, c := range find(tr, func(n *html.Node) bool { return n.DataAtom == atom.Td || n.DataAtom == atom.Th }) {
				cells = append(cells, text(c))
			}
			rows = append(rows, cells)
		}
		if len(rows) > 0 && len(rows[0]) >= len(header) && equalFold(rows[0][:len(header)], header) {
			return rows[1:], true
		}
	}
	return nil, false
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func parse(name string, body []byte) (*html.Node, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, provider.Invalid("provider %s: not an HTML page: %v", name, err)
	}
	return doc, nil
}

// set builds one currency's set for day.
func set(name, code string, day time.Time, value, sell, buy string, body []byte) (fx.RateSet, error) {
	shift, err := unitShift(value)
	if err != nil {
		return fx.RateSet{}, provider.Invalid("provider %s: %s on %s: %v", name, code, day.Format(time.DateOnly), err)
	}
	mid, err := middle(sell, buy, shift)
	if err != nil {
		return fx.RateSet{}, provider.Invalid("provider %s: %s on %s: %v", name, code, day.Format(time.DateOnly), err)
	}
	b, err := provider.NewBuilder(name, code, PublicationTime(day), body)
	if err != nil {
		return fx.RateSet{}, err
	}
	if err := b.Add(Quote, mid); err != nil {
		return fx.RateSet{}, fmt.Errorf("%w (%s on %s)", err, code, day.Format(time.DateOnly))
	}
	return b.Build()
}

// ParseLatest reads the page's first answer: the table of every currency
// (Currencies, Value, Sell, Buy) dated by its "Last Update" line, into one
// RateSet per ISO 4217 currency sorted by Base (CNH, the offshore yuan,
// has no ISO code and is skipped).
func ParseLatest(name string, body []byte) ([]fx.RateSet, error) {
	doc, err := parse(name, body)
	if err != nil {
		return nil, err
	}
	rows, ok := table(doc, "Currencies", "Value", "Sell", "Buy")
	if !ok {
		return nil, provider.Invalid("provider %s: page has no table of Currencies, Value, Sell, Buy", name)
	}
	day, err := lastUpdate(doc)
	if err != nil {
		return nil, provider.Invalid("provider %s: %v", name, err)
	}
	var sets []fx.RateSet
	seen := map[string]bool{}
	for _, r := range rows {
		if len(r) < 4 {
			return nil, provider.Invalid("provider %s: row %q has fewer than 4 cells", name, r)
		}
		code := r[0]
		if _, ok := fx.LookupCurrency(code); !ok {
			continue
		}
		if seen[code] {
			return nil, provider.Invalid("provider %s: %s appears twice", name, code)
		}
		seen[code] = true
		s, err := set(name, code, day, r[1], r[2], r[3], body)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: the rate table has no ISO currency", name)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	return sets, nil
}

// lastUpdate reads the date of the "Last Update" line (2 April 2026).
func lastUpdate(doc *html.Node) (time.Time, error) {
	for _, n := range find(doc, func(n *html.Node) bool {
		return n.Type == html.TextNode && strings.Contains(n.Data, "Last Update")
	}) {
		for s := n.NextSibling; s != nil; s = s.NextSibling {
			if s.Type == html.ElementNode {
				return time.Parse("2 January 2006", text(s))
			}
		}
	}
	return time.Time{}, fmt.Errorf("page has no \"Last Update\" date")
}

// ParseSeries reads the answer to a time-series postback for code: the
// result table (Value, Sell, Buy, Date) into one RateSet per day, oldest
// first. A page with the form but no result table holds no rate in the
// range; a page without the form is invalid.
func ParseSeries(name, code string, body []byte) ([]fx.RateSet, error) {
	doc, err := parse(name, body)
	if err != nil {
		return nil, err
	}
	rows, ok := table(doc, "Value", "Sell", "Buy", "Date")
	if !ok {
		if len(find(doc, func(n *html.Node) bool { return attr(n, "id") == "tableData" })) > 0 {
			return nil, nil
		}
		return nil, provider.Invalid("provider %s: %s: answer is not the rate page", name, code)
	}
	var sets []fx.RateSet
	seen := map[string]bool{}
	for _, r := range rows {
		if len(r) < 4 {
			return nil, provider.Invalid("provider %s: %s row %q has fewer than 4 cells", name, code, r)
		}
		day, err := time.Parse("2 Jan 2006", r[3])
		if err != nil {
			return nil, provider.Invalid("provider %s: %s: date %q: %v", name, code, r[3], err)
		}
		if seen[r[3]] {
			return nil, provider.Invalid("provider %s: %s appears twice on %s", name, code, r[3])
		}
		seen[r[3]] = true
		s, err := set(name, code, day, r[0], r[1], r[2], body)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// form is the page's postback, read from its first answer.
type form struct {
	fields url.Values
	// currency, from, to and search name the controls to fill in.
	currency, from, to, search string
	// options maps each ISO code of the currency list to the option value
	// the page expects (padded with spaces).
	options map[string]string
}

// readForm reads the hidden fields, the currency list and the range
// controls of the page.
func readForm(name string, doc *html.Node) (*form, error) {
	f := &form{fields: url.Values{}, options: map[string]string{}}
	for _, in := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Input }) {
		n := attr(in, "name")
		switch {
		case n == "":
		case strings.EqualFold(attr(in, "type"), "hidden"):
			f.fields.Set(n, attr(in, "value"))
		case strings.HasSuffix(n, "$txtFrom"):
			f.from = n
		case strings.HasSuffix(n, "$txtTo"):
			f.to = n
		case strings.HasSuffix(n, "$btnSearch1"):
			f.search = n
		}
	}
	for _, sel := range find(doc, func(n *html.Node) bool {
		return n.DataAtom == atom.Select && strings.HasSuffix(attr(n, "name"), "$ddlmatauang1")
	}) {
		f.currency = attr(sel, "name")
		for _, o := range find(sel, func(n *html.Node) bool { return n.DataAtom == atom.Option }) {
			v := attr(o, "value")
			if code := strings.TrimSpace(v); len(code) == 3 {
				f.options[code] = v
			}
		}
	}
	if f.fields.Get("__VIEWSTATE") == "" || f.currency == "" || f.from == "" || f.to == "" || f.search == "" || len(f.options) == 0 {
		return nil, provider.Invalid("provider %s: the page has no time-series form (view state, currency list, from, to, search)", name)
	}
	return f, nil
}

// post returns the postback asking for code's series from first to last.
func (f *form) post(code string, first, last time.Time) url.Values {
	v := url.Values{}
	for k, vs := range f.fields {
		v[k] = vs
	}
	v.Set(f.currency, f.options[code])
	v.Set(f.from, first.Format("02-Jan-2006"))
	v.Set(f.to, last.Format("02-Jan-2006"))
	v.Set(f.search, "Search")
	return v
}

// Client fetches BI rates over HTTP.
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty).
func NewClient(baseURL string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = provider.NewHTTPClient(0)
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// session returns a copy of the client with a fresh cookie jar: the
// postbacks must come from the session the form was served in.
func (c *Client) session() (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("provider %s: cookie jar: %w", Name, err)
	}
	hc := *c.http
	hc.Jar = jar
	return &hc, nil
}

// Latest returns the latest rates, one set per currency, from one request.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/"+page)
	if err != nil {
		return nil, err
	}
	return ParseLatest(Name, body)
}

// History returns the rates dated from to to (inclusive), oldest first
// and, within a day, by Base: one request for the form, then one postback
// per ISO currency of its list for the whole range (the page serves a
// range, one currency at a time).
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	hc, err := c.session()
	if err != nil {
		return nil, err
	}
	u := c.baseURL + "/" + page
	body, err := provider.Get(ctx, hc, Name, u)
	if err != nil {
		return nil, err
	}
	doc, err := parse(Name, body)
	if err != nil {
		return nil, err
	}
	f, err := readForm(Name, doc)
	if err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(f.options))
	for code := range f.options {
		if _, ok := fx.LookupCurrency(code); ok {
			codes = append(codes, code)
		}
	}
	sort.Strings(codes)
	var all []fx.RateSet
	for _, code := range codes {
		answer, err := provider.PostForm(ctx, hc, Name, u, f.post(code, provider.Date(from), provider.Date(to)))
		if err != nil {
			return nil, err
		}
		sets, err := ParseSeries(Name, code, answer)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}
