// Package bom reads the Bank of Mongolia's statutory reference rates of
// the tögrög from the data endpoint behind its rate-movement page
// (https://www.mongolbank.mn/en/currency-rate-movement, keyless; the Bank
// names no terms for it), which answers a JSON POST naming a range of
// dates with one row per business day. A row gives tögrög per 1 unit of
// about 35 foreign currencies, written with grouping commas
// ("3,576.42"); each becomes a set with Base = that currency and one rate
// Quote = MNT, never inverted. Gold and silver (XAU, XAG, priced per troy
// ounce) are skipped, as is the SDR (written "SDR", not ISO's XDR).
package bom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Bank of Mongolia rate.
const Name = "bom"

// DefaultBaseURL is the root of the Bank of Mongolia's English site.
const DefaultBaseURL = "https://www.mongolbank.mn/en"

// Quote is Mongolia's currency, the quote of every rate.
const Quote = "MNT"

const dataPath = "/currency-rate-movement/data"

// ulaanbaatar is Ulaanbaatar Time, UTC+8 all year (no daylight saving
// since 2017), so a fixed zone is exact and needs no tzdata.
var ulaanbaatar = time.FixedZone("ULAT", 8*60*60)

// PublicationTime is the as_of CES gives a rate date: 10:00 in
// Ulaanbaatar on that date, 02:00 UTC. The rows have a date and no time
// and the Bank states no publication hour; the Bank sets the day's rate
// in the morning, and 10:00 is the first poll of its publication window.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, ulaanbaatar).UTC()
}

// metals are priced per troy ounce, not currencies: skipped.
var metals = map[string]bool{"XAU": true, "XAG": true}

// grouped is a rate as the Bank writes it: digits grouped by commas in
// threes, an optional fraction.
var grouped = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?$`)

// Parse reads the data endpoint's answer into one set per (date, foreign
// currency), oldest date first and, within a date, by Base. A row's empty
// value is a currency not quoted that day.
func Parse(payload []byte) ([]fx.RateSet, error) {
	var a struct {
		Success bool                          `json:"success"`
		Data    *[]map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(payload, &a); err != nil {
		return nil, invalid("not the rates JSON: %v", err)
	}
	if !a.Success || a.Data == nil {
		return nil, invalid("the answer is not a successful one with data")
	}
	var all []fx.RateSet
	for i, row := range *a.Data {
		var date string
		if err := json.Unmarshal(row["RATE_DATE"], &date); err != nil {
			return nil, invalid("row %d has no RATE_DATE", i)
		}
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, invalid("row %d: RATE_DATE %q is not YYYY-MM-DD", i, date)
		}
		var rates []provider.Foreign
		for code, raw := range row {
			if code == "RATE_DATE" {
				continue
			}
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				return nil, invalid("%s of %s is not a string", code, date)
			}
			text = strings.TrimSpace(text)
			if text == "" {
				continue
			}
			if metals[code] {
				rates = append(rates, provider.Foreign{Code: code, Skip: true})
				continue
			}
			if !grouped.MatchString(text) {
				return nil, invalid("%s of %s: %q is not a rate", code, date, text)
			}
			rates = append(rates, provider.Foreign{Code: code, Value: strings.ReplaceAll(text, ",", "")})
		}
		sets, err := provider.ForeignSets(Name, Quote, PublicationTime(day), payload, rates)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].AsOf.Before(all[j].AsOf) })
	return all, nil
}

func invalid(format string, args ...any) error {
	return provider.Invalid("provider "+Name+": "+format, args...)
}

// Client fetches Bank of Mongolia rates over HTTP (or from a file URL, see
// provider.Post).
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

// Latest returns the newest date's sets, by Base, from one request for
// the last week of dates (Ulaanbaatar).
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	today := provider.Date(c.now().In(ulaanbaatar))
	sets, err := c.get(ctx, today.AddDate(0, 0, -6), today)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no rates in the week to %s", Name, today.Format(time.DateOnly)))
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request for the range.
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

// get posts the range from to to and parses the answer.
func (c *Client) get(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	body, err := json.Marshal(map[string]string{"startDate": from.Format(time.DateOnly), "endDate": to.Format(time.DateOnly)})
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	answer, err := provider.Post(ctx, c.http, Name, c.baseURL+dataPath, header, body)
	if err != nil {
		return nil, err
	}
	return Parse(answer)
}
