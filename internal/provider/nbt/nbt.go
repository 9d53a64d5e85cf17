// Package nbt reads the National Bank of Tajikistan's official exchange
// rates of the somoni from its XML export
// (https://www.nbt.tj/en/kurs/export_xml.php?date=YYYY-MM-DD&export=xmlout):
// about 35 currencies, each a Value in somoni for a Nominal of foreign
// units (1, 10, 100 or 1000: JPY per 10, UZS per 100, IRR per 1000), one
// list per date. Keyless; the Bank states no terms of use for the export.
//
// Each rate becomes a set whose Base is the foreign currency and whose one
// rate is the TJS price of one unit: a rate per Nominal units is divided
// exactly (a decimal shift, every digit kept), never inverted.
package nbt

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every NBT rate.
const Name = "nbt"

// DefaultBaseURL is the folder of the NBT's English site that holds the export.
const DefaultBaseURL = "https://www.nbt.tj/en/kurs"

// Quote is the currency every NBT rate is quoted in.
const Quote = "TJS"

// dushanbe is Tajikistan's time, UTC+5 all year, as a fixed zone.
var dushanbe = time.FixedZone("TJT", 5*60*60)

// PublicationTime is the as_of CES gives a rate dated day: 18:00 Dushanbe
// time on that day. The export gives a date only and the Bank states no
// publication hour for it; the end of the local business day is never
// earlier than the rate could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, dushanbe).UTC()
}

// export is the layout of the Bank's ValCurs export.
var export = provider.ValCurs{Name: Name, Quote: Quote, DateLayout: time.DateOnly, DateShown: "YYYY-MM-DD", PublicationTime: PublicationTime}

// Parse reads one date's export into one RateSet per ISO 4217 currency,
// sorted by Base; codes that are no ISO 4217 currency are named in Skipped
// of the first set.
func Parse(payload []byte) ([]fx.RateSet, error) { return export.Parse(payload) }

// Client fetches NBT rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the rates the export gives for today's date in Dushanbe,
// one set per currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	return c.get(ctx, c.now().In(dushanbe))
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base: the export serves one date per request, so one
// request per calendar day; a date answered with another date's list is
// kept once.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	var all []fx.RateSet
	seen := map[time.Time]bool{}
	for _, d := range provider.Days(from, to) {
		sets, err := c.get(ctx, d)
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

func (c *Client) get(ctx context.Context, day time.Time) ([]fx.RateSet, error) {
	q := url.Values{"date": {day.Format(time.DateOnly)}, "export": {"xmlout"}}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/export_xml.php?"+q.Encode())
	if err != nil {
		return nil, err
	}
	return Parse(body)
}
