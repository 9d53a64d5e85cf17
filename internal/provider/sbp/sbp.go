// Package sbp reads the State Bank of Pakistan's daily average banks'
// floating exchange rates: Pakistani rupees per ONE unit ("Pak Rupees per
// Currency Unit") of 23 currencies, one column per business day, published
// as XLSX workbooks, keyless: BFER_Daily.xlsx holds one month, and
// BFER_Daily_Arch.xlsx every day since July 2013. SBP releases them once a
// month, weeks after the days they cover. The cells are averages stored as
// binary floats (17 significant digits); provider.FloatText keeps every
// digit but a float's printing noise. Terms:
// https://www.sbp.org.pk/our-operations/disclaimer.
package sbp

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every SBP rate.
const Name = "sbp"

// DefaultBaseURL is the folder of SBP's documents.
const DefaultBaseURL = "https://www.sbp.org.pk/assets/document"

// The workbooks, relative to the base URL.
const (
	currentFile = "BFER_Daily.xlsx"
	archiveFile = "BFER_Daily_Arch.xlsx"
)

// Quote is the currency every SBP rate is quoted in: a set's Base is the
// foreign currency and its single rate the rupee price of one unit.
const Quote = "PKR"

// karachi is Pakistan Standard Time, UTC+5 (no daylight saving since
// 2009), so a fixed zone is exact.
var karachi = time.FixedZone("PKT", 5*60*60)

// PublicationTime is the as_of CES gives an SBP rate date: 17:00 in
// Karachi (12:00 UTC), the close of that business day, when the day's
// average of the banks' rates is complete. SBP releases the figures later
// in its monthly workbooks; as_of is the day the rate is for, not that
// release.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, karachi).UTC()
}

// names maps the currency names of the workbooks' Currency column,
// normalized (letters only, lower case), to ISO 4217 codes; both files'
// spellings are listed (the current one writes "Japnese Yen", "Thai
// Bhat", "Singaporian Dollar"). Rows whose name is not here (contact
// lines) are skipped.
var names = map[string]string{
	"australiandollar": "AUD", "bahrainidinar": "BHD", "canadiandollar": "CAD",
	"chineseyuan": "CNY", "danishkrone": "DKK", "euro": "EUR",
	"hongkongdollar": "HKD", "japaneseyen": "JPY", "japneseyen": "JPY",
	"kuwaitidinar": "KWD", "malaysianringgit": "MYR", "newzealanddollar": "NZD",
	"norwegiankrone": "NOK", "omaniriyal": "OMR", "qataririyal": "QAR",
	"saudiarabianriyal": "SAR", "singaporedollar": "SGD", "singaporiandollar": "SGD",
	"swedishkrona": "SEK", "swedishkrone": "SEK", "swissfranc": "CHF",
	"thaibaht": "THB", "thaibhat": "THB", "turkishlira": "TRY",
	"usdollar": "USD", "uaedirham": "AED", "ukpoundsterling": "GBP",
}

func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// unitLine is the workbooks' statement of direction and unit.
var unitLine = regexp.MustCompile(`(?i)^pak rupees per currency unit$`)

// Parse reads an SBP workbook into one RateSet per (day, currency),
// oldest first and, within a day, by Base: the rupee price of one unit,
// as_of PublicationTime of the day. The table is found by its heading row
// (Country..., Currency, then one Excel date serial per column); a
// workbook that does not state "Pak Rupees per Currency Unit" is invalid.
func Parse(name string, body []byte) ([]fx.RateSet, error) {
	sh, err := readSheet(body)
	if err != nil {
		return nil, provider.Invalid("provider %s: %v", name, err)
	}
	head, unit := 0, false
	rows := make([]int, 0, len(sh.cells))
	for r := range sh.cells {
		rows = append(rows, r)
	}
	sort.Ints(rows)
	for _, r := range rows {
		if unitLine.MatchString(sh.cell(r, 1)) {
			unit = true
		}
		if strings.HasPrefix(strings.ToLower(sh.cell(r, 1)), "country") && strings.EqualFold(sh.cell(r, 2), "currency") {
			head = r
			break
		}
	}
	if !unit || head == 0 {
		return nil, provider.Invalid("provider %s: workbook has no table of \"Pak Rupees per Currency Unit\" (Country, Currency, dates)", name)
	}
	days := map[int]time.Time{}
	for col, v := range sh.cells[head] {
		if col < 3 || strings.TrimSpace(v) == "" {
			continue
		}
		day, err := serialDate(strings.TrimSpace(v), sh.date1904)
		if err != nil {
			return nil, provider.Invalid("provider %s: heading column %d: %v", name, col, err)
		}
		days[col] = day
	}
	if len(days) == 0 {
		return nil, provider.Invalid("provider %s: the table has no date column", name)
	}

	var sets []fx.RateSet
	seen := map[string]bool{}
	for _, r := range rows {
		if r <= head {
			continue
		}
		code, ok := names[normalize(sh.cell(r, 2))]
		if !ok {
			continue
		}
		if seen[code] {
			return nil, provider.Invalid("provider %s: %s has two rows", name, code)
		}
		seen[code] = true
		for col, day := range days {
			cell := sh.cell(r, col)
			if cell == "" {
				continue
			}
			v, err := provider.FloatText(cell)
			if err != nil {
				return nil, provider.Invalid("provider %s: %s on %s: %q is not a number", name, code, day.Format(time.DateOnly), cell)
			}
			b, err := provider.NewBuilder(name, code, PublicationTime(day), body)
			if err != nil {
				return nil, err
			}
			if err := b.Add(Quote, fx.Exact(v)); err != nil {
				return nil, fmt.Errorf("%w (%s on %s)", err, code, day.Format(time.DateOnly))
			}
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			sets = append(sets, set)
		}
	}
	if len(sets) == 0 {
		return nil, provider.Invalid("provider %s: the table has no known currency", name)
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].AsOf.Equal(sets[j].AsOf) {
			return sets[i].AsOf.Before(sets[j].AsOf)
		}
		return sets[i].Base < sets[j].Base
	})
	return sets, nil
}

// serialDate reads an Excel date serial: days since 1899-12-30 (which
// absorbs the 1900 system's fictitious 29 February 1900, irrelevant after
// March 1900), or since 1904-01-01 in the 1904 system. A heading date is a
// whole day.
func serialDate(v string, date1904 bool) (time.Time, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return time.Time{}, fmt.Errorf("%q is not a whole Excel date serial", v)
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return epoch.AddDate(0, 0, n), nil
}

// Client fetches SBP workbooks over HTTP (or from a file URL).
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

func (c *Client) get(ctx context.Context, file string) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/"+file)
	if err != nil {
		return nil, err
	}
	return Parse(Name, body)
}

// Latest returns the newest day of the current workbook, one set per
// currency, from one request (20 kB; the archive is 750 kB).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx, currentFile)
	if err != nil {
		return nil, err
	}
	newest := provider.Date(sets[len(sets)-1].AsOf.In(karachi))
	return provider.Between(sets, newest, newest), nil
}

// History returns the rates dated from to to (inclusive), oldest first
// and, within a day, by Base: one request for the archive and, only when
// to is after the archive's last day, one more for the current workbook
// (a day in both is taken from the archive; the recordings agree to the
// digit).
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx, archiveFile)
	if err != nil {
		return nil, err
	}
	last := provider.Date(sets[len(sets)-1].AsOf.In(karachi))
	if provider.Date(to).After(last) {
		current, err := c.get(ctx, currentFile)
		if err != nil {
			return nil, err
		}
		for _, s := range current {
			if provider.Date(s.AsOf.In(karachi)).After(last) {
				sets = append(sets, s)
			}
		}
	}
	return provider.Between(sets, from, to), nil
}
