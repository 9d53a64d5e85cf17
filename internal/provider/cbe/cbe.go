// Package cbe reads the Central Bank of Egypt's official exchange rates
// from its historical-data page (www.cbe.org.eg, keyless; terms:
// https://www.cbe.org.eg/en/disclaimer). The page's form posts a date range
// and a list of currency names and answers an XLSX workbook: one row per
// (date, currency) with buying and selling rates in Egyptian pounds per 1
// unit (per 100 for "Japanese Yen 100"), about 18 currencies, one
// publication per Egyptian business day (Sunday to Thursday). Each
// currency becomes a set with Base = that currency and one rate Quote =
// EGP, the exact middle (buy + sell) / 2 per single unit, never inverted.
//
// The form is protected by an anti-forgery token: a request first reads
// the page (its hidden inputs and its cookies), then posts the form with
// both, so every Latest or History call costs two requests.
package cbe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the publication time is Cairo local time; images may lack tzdata

	"github.com/xuri/excelize/v2"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBE rate.
const Name = "cbe"

// DefaultBaseURL is the root of the CBE's site.
const DefaultBaseURL = "https://www.cbe.org.eg"

// Quote is the currency every CBE rate is quoted in.
const Quote = "EGP"

const (
	pagePath = "/en/economic-research/statistics/cbe-exchange-rates/historical-data"
	formPath = "/api/statistics/GetHistoricalData"
)

// latestDays is how far back Latest looks for the newest publication:
// more than the longest run of Egyptian holidays.
const latestDays = 14

// currency is one name of the form's currency list: its ISO code and how
// many units the rates are for.
type currency struct {
	code  string
	units int64
}

// names are the form's currency options (the page's <option> values), in
// its order, with their ISO 4217 codes; the CBE quotes the yen per 100.
var names = []struct {
	name string
	currency
}{
	{"US Dollar", currency{"USD", 1}}, {"Euro", currency{"EUR", 1}}, {"Pound Sterling", currency{"GBP", 1}},
	{"Canadian Dollar", currency{"CAD", 1}}, {"Danish Krone", currency{"DKK", 1}}, {"Norwegian Krone", currency{"NOK", 1}},
	{"Swedish Krona", currency{"SEK", 1}}, {"Swiss Franc", currency{"CHF", 1}}, {"Japanese Yen 100", currency{"JPY", 100}},
	{"Saudi Riyal", currency{"SAR", 1}}, {"Kuwaiti Dinar", currency{"KWD", 1}}, {"UAE Dirham", currency{"AED", 1}},
	{"Australian Dollar", currency{"AUD", 1}}, {"Bahraini Dinar", currency{"BHD", 1}}, {"Omani Riyal", currency{"OMR", 1}},
	{"Qatari Riyal", currency{"QAR", 1}}, {"Jordanian Dinar", currency{"JOD", 1}}, {"Chinese Yuan", currency{"CNY", 1}},
}

var byName = func() map[string]currency {
	m := map[string]currency{}
	for _, n := range names {
		m[strings.ToLower(n.name)] = n.currency
	}
	return m
}()

var cairo = mustLoad("Africa/Cairo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PublicationTime is the as_of CES gives a CBE rate date: 17:00 in Cairo
// (EET or EEST) on that date, the end of the Egyptian business day. The
// workbook has a date and no time; the CBE states no publication hour for
// its daily official rate, so the close of the day is the first moment it
// is surely final.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, cairo).UTC()
}

// Parse reads the workbook GetHistoricalData answers into one RateSet per
// (date, currency), oldest date first and, within a date, by Base. The
// first sheet's header row names the columns Date (an Excel serial day),
// Currency, Buy and Sell; rows above it (the title) are ignored. name
// names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	rows, err := readSheet(payload)
	if err != nil {
		return nil, provider.Invalid("provider %s: not the rates workbook: %v", name, err)
	}
	col := map[string]int{}
	start := -1
	for i, r := range rows {
		for j, v := range r {
			col[strings.ToLower(strings.TrimSpace(v))] = j
		}
		if _, ok := col["buy"]; ok {
			start = i + 1
			break
		}
		clear(col)
	}
	for _, c := range []string{"date", "currency", "buy", "sell"} {
		if _, ok := col[c]; !ok || start < 0 {
			return nil, provider.Invalid("provider %s: the workbook has no %s column", name, c)
		}
	}
	byDate := map[string][]provider.Foreign{}
	for i, r := range rows[start:] {
		cell := func(c string) string {
			if j := col[c]; j < len(r) {
				return strings.TrimSpace(r[j])
			}
			return ""
		}
		if cell("date") == "" && cell("currency") == "" {
			continue // a blank row
		}
		day, err := excelDate(cell("date"))
		if err != nil {
			return nil, provider.Invalid("provider %s: row %d: date %q: %v", name, start+i+1, cell("date"), err)
		}
		mid, err := provider.Mid(cell("buy"), cell("sell"))
		if err != nil {
			return nil, provider.Invalid("provider %s: row %d (%s): %v", name, start+i+1, cell("currency"), err)
		}
		f := provider.Foreign{Code: cell("currency"), Value: mid, Skip: true}
		if c, ok := byName[strings.ToLower(cell("currency"))]; ok {
			f = provider.Foreign{Code: c.code, Value: mid, Units: c.units}
		}
		key := day.Format(time.DateOnly)
		byDate[key] = append(byDate[key], f)
	}
	if len(byDate) == 0 {
		return nil, provider.Permanent(provider.TypeInvalidPayload, fmt.Errorf("provider %s: %w", name, errNoRows))
	}
	var sets []fx.RateSet
	for key, list := range byDate {
		day, _ := time.Parse(time.DateOnly, key)
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

// errNoRows is a well-formed workbook without a rate row: invalid as a
// publication, but the honest answer for a range of holidays.
var errNoRows = errors.New("the workbook holds no rate")

// excelDate reads an Excel serial day number (days since 1899-12-30 in
// the 1900 date system, which is what the CBE's workbook uses).
func excelDate(s string) (time.Time, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 36526 || n > 73050 { // 2000-01-01 .. 2099-12-31
		return time.Time{}, errors.New("not an Excel serial day of this century")
	}
	return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), nil
}

// maxUnzipped bounds the decompressed workbook (the recorded week is 25
// kB, some 165 bytes a row); the bound stops a compressed bomb. Up to it every part
// stays in memory (excelize would spill larger sheets to temporary files).
const maxUnzipped = 16 << 20

// readSheet returns the cell texts of the workbook's first sheet, row by
// row (a missing row is empty), each row indexed by column (A = 0),
// shared strings resolved. RawCellValue keeps a number's stored text:
// without it excelize formats numbers through float64 and its number
// format.
func readSheet(payload []byte) ([][]string, error) {
	opts := excelize.Options{RawCellValue: true, UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzipped}
	f, err := excelize.OpenReader(bytes.NewReader(payload), opts)
	if errors.Is(err, io.EOF) {
		// excelize's answer to a zip whose package names no workbook.
		err = errors.New("no workbook part")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list := f.GetSheetList()
	if len(list) == 0 {
		return nil, errors.New("the workbook has no sheet")
	}
	// The row iterator, not GetRows: GetRows stops silently at a row it
	// cannot read, the iterator reports why.
	it, err := f.Rows(list[0])
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", list[0], err)
	}
	var rows [][]string
	for it.Next() {
		row, err := it.Columns(opts)
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("sheet %q row %d: %w", list[0], len(rows)+1, err)
		}
		rows = append(rows, row)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("sheet %q: %w", list[0], err)
	}
	return rows, nil
}

// Client reads the CBE's historical-data form over HTTP.
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

// Latest returns the newest publication of the last latestDays days (two
// requests): one set per currency, by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(time.Now().In(cairo))
	sets, err := c.get(ctx, today.AddDate(0, 0, -latestDays), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no official rate in the last %d days", Name, latestDays))
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one form post for the whole range (after
// one read of the page for its token).
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

var (
	inputTag = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attr     = regexp.MustCompile(`(?is)\b(name|value|type)\s*=\s*"([^"]*)"`)
)

// formFields are the hidden inputs the form posts; the token and the data
// source are required.
var formFields = []string{"__RequestVerificationToken", "DataSourceId", "FallbackUrl", "LanguageName"}

// hidden returns the page's hidden form inputs, by name.
func hidden(page []byte) map[string]string {
	out := map[string]string{}
	for _, tag := range inputTag.FindAll(page, -1) {
		a := map[string]string{}
		for _, m := range attr.FindAllSubmatch(tag, -1) {
			a[strings.ToLower(string(m[1]))] = string(m[2])
		}
		if strings.EqualFold(a["type"], "hidden") && a["name"] != "" {
			out[a["name"]] = htmlUnescape(a["value"])
		}
	}
	return out
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// get reads the page, then posts the form for from..to (the form takes
// dd/mm/yyyy) and parses the workbook. The page's cookies (session and
// anti-forgery) go with the post through a cookie jar of this call only.
// A workbook without rows (a range of holidays) is no set.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("provider %s: cookie jar: %w", Name, err)
	}
	hc := *c.http
	hc.Jar = jar
	page, err := provider.Get(ctx, &hc, Name, c.baseURL+pagePath)
	if err != nil {
		return nil, err
	}
	fields := hidden(page)
	if fields["__RequestVerificationToken"] == "" || fields["DataSourceId"] == "" {
		return nil, provider.Invalid("provider %s: the historical-data page has no form token", Name)
	}
	form := url.Values{}
	for _, f := range formFields {
		if v, ok := fields[f]; ok {
			form.Set(f, v)
		}
	}
	if form.Get("LanguageName") == "" {
		form.Set("LanguageName", "en")
	}
	form.Set("FromDateRaw", provider.Date(from).Format("02/01/2006"))
	form.Set("ToDateRaw", provider.Date(to).Format("02/01/2006"))
	for _, n := range names {
		form.Add("SelectedSelectOptions", n.name)
	}
	form.Set("SubmitAction", "2") // 2: download the workbook
	header := http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Referer":      {c.baseURL + pagePath},
		"Origin":       {c.baseURL},
	}
	body, err := provider.Post(ctx, &hc, Name, c.baseURL+formPath, header, []byte(form.Encode()))
	if err != nil {
		return nil, err
	}
	sets, err := Parse(Name, body)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	return sets, err
}
