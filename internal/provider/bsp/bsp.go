// Package bsp reads the Bangko Sentral ng Pilipinas's Reference Exchange
// Rate Bulletin: a one-page PDF per Philippine business day, listed in the
// RERB list of the Bank's SharePoint site (its REST API answers the list
// as JSON, newest first, a hundred items a page). The bulletin's table
// gives about 30 currencies, each in euro, US dollar and Philippine peso
// equivalents of one unit; CES reads the peso column ("PHIL.PESO
// EQUIVALENT"), four decimals as printed. The table is derived from
// Reuters' New York closing prices of the previous day; the bulletin's
// separate "BSP Reference Rate" for the dollar, a weighted average of the
// Philippine Dealing System's trades, is a different figure and is not
// read. Keyless; terms at
// https://www.bsp.gov.ph/Pages/AboutTheBank/Terms-of-Use.aspx.
//
// Each row becomes a set whose Base is the foreign currency and whose one
// rate is the PHP price of one unit, as printed: never inverted. A row
// marked N/A (not quoted that day) is left out.
package bsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BSP rate.
const Name = "bsp"

// DefaultBaseURL is the root of the BSP's site.
const DefaultBaseURL = "https://www.bsp.gov.ph"

// Quote is the currency every BSP rate is quoted in.
const Quote = "PHP"

// listPath asks for the RERB list's items, newest first, with their
// attachments (the bulletin PDFs), a page at a time.
const listPath = "/_api/web/lists/getByTitle('RERB')/items?$expand=AttachmentFiles&$orderby=Id%20desc&$select=Id,Title,AttachmentFiles&$top=100"

// manila is Philippine time, UTC+8 all year, as a fixed zone.
var manila = time.FixedZone("PHT", 8*60*60)

type listPage struct {
	D *struct {
		Results []item `json:"results"`
		Next    string `json:"__next"`
	} `json:"d"`
}

type item struct {
	ID          json.Number `json:"Id"`
	Title       string      `json:"Title"`
	Attachments struct {
		Results []struct {
			FileName          string `json:"FileName"`
			ServerRelativeURL string `json:"ServerRelativeUrl"`
		} `json:"results"`
	} `json:"AttachmentFiles"`
}

// bulletin is one list item: its date (the Title, 28May2026) and PDF.
type bulletin struct {
	date time.Time
	path string
}

// parseList reads one page of the list into its bulletins, in the list's
// order, and the address of the next page ("" on the last).
func parseList(payload []byte) ([]bulletin, string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var page listPage
	if err := dec.Decode(&page); err != nil || page.D == nil {
		return nil, "", invalid("not a RERB list answer")
	}
	var out []bulletin
	for _, it := range page.D.Results {
		day, err := time.Parse("02Jan2006", strings.TrimSpace(it.Title))
		if err != nil {
			return nil, "", invalid("list item %s: Title %q is not a date like 28May2026", it.ID, it.Title)
		}
		var path string
		for _, a := range it.Attachments.Results {
			if strings.HasSuffix(strings.ToLower(a.FileName), ".pdf") {
				path = a.ServerRelativeURL
				break
			}
		}
		if !strings.HasPrefix(path, "/") {
			return nil, "", invalid("list item %s (%s) has no PDF attachment", it.ID, it.Title)
		}
		out = append(out, bulletin{date: day, path: path})
	}
	return out, page.D.Next, nil
}

var (
	bulletinDate = regexp.MustCompile(`^\d{1,2} [A-Z][a-z]+ \d{4}$`)
	thousands    = regexp.MustCompile(`^\d{1,3}(,\d{3})+(\.\d+)?$`)
	isoLike      = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ParseBulletin reads one bulletin PDF into one RateSet per ISO 4217
// currency of its table, sorted by Base. as_of is the bulletin's own "Run
// date/time" in Manila (08:36 AM on 28 May 2026), which must fall on the
// bulletin's date.
func ParseBulletin(payload []byte) ([]fx.RateSet, error) {
	rows, err := pageRows(payload)
	if err != nil {
		return nil, invalid("not a readable bulletin PDF: %v", err)
	}
	var date, run time.Time
	var rates []provider.Foreign
	for _, row := range rows {
		switch {
		case len(row) == 1 && bulletinDate.MatchString(row[0]) && date.IsZero():
			date, err = time.Parse("2 January 2006", row[0])
			if err != nil {
				return nil, invalid("bulletin date %q: %v", row[0], err)
			}
		case len(row) == 2 && row[0] == "Run date/time:":
			run, err = time.ParseInLocation("02-Jan-2006 03:04 PM", row[1], manila)
			if err != nil {
				return nil, invalid("run date/time %q is not like 28-May-2026 08:36 AM", row[1])
			}
		case len(row) >= 5 && isRowNumber(row[0]):
			// No., country, unit, symbol, euro, dollar and peso equivalents.
			code, php := row[len(row)-4], row[len(row)-1]
			if !isoLike.MatchString(code) {
				return nil, invalid("table row %s: symbol %q is not a currency code (row %q)", row[0], code, strings.Join(row, " | "))
			}
			if php == "N/A" {
				continue
			}
			if thousands.MatchString(php) {
				php = strings.ReplaceAll(php, ",", "")
			}
			rates = append(rates, provider.Foreign{Code: code, Value: php, Units: 1})
		}
	}
	if date.IsZero() {
		return nil, invalid("the bulletin has no date line")
	}
	if run.IsZero() {
		return nil, invalid("the bulletin of %s has no run date/time", date.Format(time.DateOnly))
	}
	if run.Format(time.DateOnly) != date.Format(time.DateOnly) {
		return nil, invalid("the bulletin of %s was run on %s", date.Format(time.DateOnly), run.Format(time.DateOnly))
	}
	return provider.ForeignSets(Name, Quote, run, payload, rates)
}

func isRowNumber(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 1000
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches BSP bulletins over HTTP (or from a file URL, see
// provider.Get).
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

// Latest returns the newest bulletin's rates, one set per currency: one
// request for the list's first page, one for the PDF.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+listPath)
	if err != nil {
		return nil, err
	}
	items, _, err := parseList(body)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, invalid("the RERB list is empty")
	}
	newest := items[0]
	for _, it := range items[1:] {
		if it.date.After(newest.date) {
			newest = it
		}
	}
	return c.bulletin(ctx, newest)
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: the list's pages, newest first, until one
// reaches back before from (a page per hundred business days), and one
// request per bulletin in the range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	first, last := provider.Date(from), provider.Date(to)
	var wanted []bulletin
	next := c.baseURL + listPath
	for next != "" {
		body, err := provider.Get(ctx, c.http, Name, next)
		if err != nil {
			return nil, err
		}
		items, more, err := parseList(body)
		if err != nil {
			return nil, err
		}
		reached := len(items) == 0
		for _, it := range items {
			if !it.date.Before(first) && !it.date.After(last) {
				wanted = append(wanted, it)
			}
			if it.date.Before(first) {
				reached = true
			}
		}
		if reached || more == "" {
			break
		}
		if next, err = c.sameSite(more); err != nil {
			return nil, err
		}
	}
	sort.Slice(wanted, func(i, j int) bool { return wanted[i].date.Before(wanted[j].date) })
	var all []fx.RateSet
	for _, b := range wanted {
		sets, err := c.bulletin(ctx, b)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	return provider.Between(all, from, to), nil
}

// sameSite turns the list's absolute next-page address into one on the
// client's base URL, so that a stand-in or mirror serves it too.
func (c *Client) sameSite(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(u.EscapedPath(), "/_api/") {
		return "", invalid("next page address %q is not on the list API", next)
	}
	return c.baseURL + u.RequestURI(), nil
}

func (c *Client) bulletin(ctx context.Context, b bulletin) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+b.path)
	if err != nil {
		return nil, err
	}
	sets, err := ParseBulletin(body)
	if err != nil {
		return nil, fmt.Errorf("%w (bulletin %s)", err, b.date.Format(time.DateOnly))
	}
	return sets, nil
}
