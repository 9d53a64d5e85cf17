// Package cbk reads the Central Bank of Kenya's indicative exchange rates:
// the table (wpDataTables table 193) behind its forex page
// (https://www.centralbank.go.ke/forex/, keyless; the CBK names no terms
// for it), all rows in one POST to the site's admin-ajax endpoint. Each
// Kenyan business day the CBK publishes one mean rate per currency named
// (not coded): Kenya shillings per 1 unit of 17 currencies (per 100 for
// "JPY (100)"), which become sets with Base = that currency and one rate
// Quote = KES; and four East African currencies the other way round,
// written "KES / USHS" (Uganda shillings per 1 shilling), which become one
// set Base = KES. No rate is ever inverted.
package cbk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBK rate.
const Name = "cbk"

// DefaultBaseURL is the root of the CBK's site.
const DefaultBaseURL = "https://www.centralbank.go.ke"

// Home is Kenya's currency: the quote of most rates, the base of the rest.
const Home = "KES"

const tablePath = "/wp-admin/admin-ajax.php?action=get_wdtable&table_id=193"

// nairobi is East Africa Time. Kenya keeps UTC+3 all year (no daylight
// saving), so a fixed zone is exact and needs no tzdata.
var nairobi = time.FixedZone("EAT", 3*60*60)

// PublicationTime is the as_of CES gives a CBK rate date: 17:00 in
// Nairobi on that date, 14:00 UTC. The table has a date and no time and
// the CBK states no publication hour, so the close of the Nairobi
// business day is the first moment the day's rate is surely final.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, nairobi).UTC()
}

// perUnit maps the CBK's names for currencies quoted in shillings to their
// ISO codes and units; the names are the table's own. CAN $ and
// AUSTRALIAN $ are the Canadian and Australian dollars; SW KRONER is the
// Swedish krona (its rate sits beside NOR and DAN KRONER's).
var perUnit = map[string]provider.Foreign{
	"US DOLLAR": {Code: "USD"}, "STG POUND": {Code: "GBP"}, "EURO": {Code: "EUR"},
	"SA RAND": {Code: "ZAR"}, "AE DIRHAM": {Code: "AED"}, "CAN $": {Code: "CAD"},
	"S FRANC": {Code: "CHF"}, "JPY (100)": {Code: "JPY", Units: 100}, "SW KRONER": {Code: "SEK"},
	"NOR KRONER": {Code: "NOK"}, "DAN KRONER": {Code: "DKK"}, "IND RUPEE": {Code: "INR"},
	"HONGKONG DOLLAR": {Code: "HKD"}, "SINGAPORE DOLLAR": {Code: "SGD"}, "SAUDI RIYAL": {Code: "SAR"},
	"CHINESE YUAN": {Code: "CNY"}, "AUSTRALIAN $": {Code: "AUD"},
}

// perShilling maps the "KES / X" names, units of X per 1 shilling, to X's
// ISO code (USHS and TSHS are the Uganda and Tanzania shillings).
var perShilling = map[string]string{
	"KES / USHS": "UGX", "KES / TSHS": "TZS", "KES / RWF": "RWF", "KES / BIF": "BIF",
}

// key normalizes a name: upper case, single spaces.
func key(name string) string { return strings.Join(strings.Fields(strings.ToUpper(name)), " ") }

// cell is a table cell's text: a JSON string, or a number kept as its text.
type cell string

func (c *cell) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = cell(s)
		return nil
	}
	if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		*c = cell(b)
		return nil
	}
	return errors.New("cell is neither a string nor a number")
}

// Parse reads the table's JSON (rows of date dd/mm/yyyy, currency name,
// mean rate) into the sets of each date, oldest date first and, within a
// date, by Base. Identical repeated rows are ignored (the table has some);
// a name neither map knows is recorded, as written, in Skipped of one set
// of its date. name names the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	var table struct {
		Data *[][]cell `json:"data"`
	}
	if err := json.Unmarshal(payload, &table); err != nil {
		return nil, provider.Invalid("provider %s: not the rates table: %v", name, err)
	}
	if table.Data == nil || len(*table.Data) == 0 {
		return nil, provider.Invalid("provider %s: the table has no rows", name)
	}
	type day struct {
		local []provider.Foreign
		cross map[string]string
	}
	days := map[time.Time]*day{}
	for i, r := range *table.Data {
		if len(r) < 3 {
			return nil, provider.Invalid("provider %s: row %d has %d cells, want 3", name, i, len(r))
		}
		date, err := time.Parse("02/01/2006", strings.TrimSpace(string(r[0])))
		if err != nil {
			return nil, provider.Invalid("provider %s: row %d: date %q is not dd/mm/yyyy", name, i, r[0])
		}
		d := days[date]
		if d == nil {
			d = &day{cross: map[string]string{}}
			days[date] = d
		}
		currency, value := key(string(r[1])), strings.TrimSpace(string(r[2]))
		if code, ok := perShilling[currency]; ok {
			if prev, dup := d.cross[code]; dup && prev != value {
				return nil, provider.Invalid("provider %s: %s on %s appears twice, as %s and %s", name, currency, r[0], prev, value)
			}
			d.cross[code] = value
			continue
		}
		f, ok := perUnit[currency]
		if !ok {
			f = provider.Foreign{Code: strings.TrimSpace(string(r[1])), Skip: true}
		}
		f.Value = value
		d.local = append(d.local, f)
	}
	var sets []fx.RateSet
	for date, d := range days {
		asOf := PublicationTime(date)
		published, err := provider.ForeignSets(name, Home, asOf, payload, d.local)
		if err != nil {
			return nil, err
		}
		if len(d.cross) > 0 {
			b, err := provider.NewBuilder(name, Home, asOf, payload)
			if err != nil {
				return nil, err
			}
			for code, value := range d.cross {
				if err := b.Add(code, value); err != nil {
					return nil, fmt.Errorf("%w (on %s)", err, date.Format(time.DateOnly))
				}
			}
			set, err := b.Build()
			if err != nil {
				return nil, err
			}
			published = append(published, set)
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

// Client fetches the CBK's table over HTTP (or from a file URL, see
// provider.Post).
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

// Latest returns the newest date's sets, by Base.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request for the whole table.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// get posts the table request for every row (length -1) and parses it.
func (c *Client) get(ctx context.Context) ([]fx.RateSet, error) {
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	body, err := provider.Post(ctx, c.http, Name, c.baseURL+tablePath, header, []byte("draw=1&start=0&length=-1"))
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			// One table holds every date: a 404 means a wrong base URL.
			return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return nil, err
	}
	return Parse(Name, body)
}
