// Package cbn reads the Central Bank of Nigeria's official exchange rates:
// the JSON array its GetAllExchangeRates endpoint returns, naira per unit
// of about a dozen foreign currencies named (not coded), with buying,
// central and selling rates, one publication per Nigerian business day,
// no API key.
package cbn

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
	"unicode"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every CBN rate.
const Name = "cbn"

// DefaultBaseURL is the root of the CBN's rates API.
const DefaultBaseURL = "https://www.cbn.gov.ng/api"

// Quote is the currency every CBN rate is quoted in: a set's Base is the
// foreign currency and its single rate is the naira price of one unit.
const Quote = "NGN"

// lagos is West Africa Time. Nigeria keeps UTC+1 all year (no daylight
// saving), so a fixed zone is exact and needs no tzdata.
var lagos = time.FixedZone("WAT", 60*60)

// PublicationTime is the as_of CES gives a CBN rate date: 17:00 in Lagos
// on that date, 16:00 UTC. The payload carries a date and no time; the
// CBN sets its rates during the Lagos business day, so the close of that
// day is the first moment the day's rate is surely final, and an as_of no
// earlier than that never claims a rate before it could be known.
func PublicationTime(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, lagos).UTC()
}

// names maps the currency names the CBN publishes to ISO 4217 codes. The
// names are those of the CBN's exchange-rate page
// (https://www.cbn.gov.ng/rates/ExchRateByCurrency.html) and of the
// GetAllExchangeRates payload, with likely spelling variants; the codes
// are ISO 4217's. Matching ignores case, spaces and punctuation (see
// Code). Names absent here are skipped, notably WAUA, the West African
// Unit of Account of the West African Monetary Agency, which is a basket
// and no ISO 4217 currency.
var names = map[string]string{
	"US DOLLAR": "USD", "US DOLLARS": "USD", "U.S. DOLLAR": "USD", "UNITED STATES DOLLAR": "USD",
	"POUNDS STERLING": "GBP", "POUND STERLING": "GBP", "BRITISH POUND": "GBP",
	"EURO": "EUR", "EUROS": "EUR",
	"SWISS FRANC": "CHF", "SWISS FRANCS": "CHF",
	"YEN": "JPY", "JAPANESE YEN": "JPY",
	"YUAN/RENMINBI": "CNY", "YUAN": "CNY", "RENMINBI": "CNY", "CHINESE YUAN": "CNY",
	// The CBN's CFA is the West African CFA franc of the BCEAO (Nigeria's
	// neighbours), not the Central African XAF; both are pegged alike.
	"CFA": "XOF", "CFA FRANC": "XOF", "CFA FRANCS": "XOF", "CFA FRANC BCEAO": "XOF", "WEST AFRICAN CFA FRANC": "XOF",
	"SDR": "XDR", "SPECIAL DRAWING RIGHT": "XDR", "SPECIAL DRAWING RIGHTS": "XDR",
	// The CBN's RIYAL is the Saudi riyal (its rate sits at the 3.75 USD peg).
	"RIYAL": "SAR", "SAUDI RIYAL": "SAR", "SAUDI ARABIAN RIYAL": "SAR",
	"UAE DIRHAM": "AED", "UAE DIRHAMS": "AED", "DIRHAM": "AED", "EMIRATI DIRHAM": "AED",
	"DANISH KRONA": "DKK", "DANISH KRONE": "DKK", "DANISH KRONER": "DKK",
	"SOUTH AFRICAN RAND": "ZAR", "RAND": "ZAR",
}

// codes is names keyed by the normalized name.
var codes = func() map[string]string {
	m := make(map[string]string, len(names))
	for name, code := range names {
		k := normalize(name)
		if prev, ok := m[k]; ok && prev != code {
			panic("cbn: names " + name + " collides with another name for " + prev)
		}
		if _, ok := fx.LookupCurrency(code); !ok {
			panic("cbn: " + code + " is not an ISO 4217 currency")
		}
		m[k] = code
	}
	return m
}()

// normalize keeps the letters and digits of a name, upper-cased, so
// "Yuan / Renminbi" and "YUAN/RENMINBI" match.
func normalize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Code returns the ISO 4217 code of a CBN currency name, ignoring case,
// spaces and punctuation; false when the name is not in the table.
func Code(name string) (string, bool) {
	code, ok := codes[normalize(name)]
	return code, ok
}

// text is a rate as the payload writes it: a JSON string, or a JSON number
// kept as its text (never through float64). null leaves it unset.
type text struct {
	s   string
	set bool
}

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &t.s); err != nil {
			return err
		}
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		t.s = string(b) // json has validated the number already
	default:
		return errors.New("rate is neither a string nor a number")
	}
	t.set = true
	return nil
}

type row struct {
	Currency string `json:"currency"`
	RateDate string `json:"ratedate"`
	Central  text   `json:"centralrate"`
}

// Parse reads a GetAllExchangeRates array into one RateSet per (date,
// foreign currency): Base is the currency's ISO code, its one rate is the
// central rate against NGN with the payload's digits, as_of is
// PublicationTime of the date. Sets come newest first, then by Base. Names
// that map to no ISO currency are recorded, as written, in Skipped of the
// first set of their date only, so summing Skipped over a date counts
// each once. An identical repeated row is ignored; a repeated (currency,
// date) with another central rate makes the payload invalid. name names
// the sets.
func Parse(name string, payload []byte) ([]fx.RateSet, error) {
	var rows []row
	if err := json.Unmarshal(payload, &rows); err != nil {
		return nil, invalid(name, "not a JSON array of rates: %v", err)
	}
	if len(rows) == 0 {
		return nil, invalid(name, "payload has no rates")
	}
	type key struct{ date, code string }
	central := map[key]string{}
	var order []key
	days := map[string]time.Time{}
	skipped := map[string][]string{}
	for i, r := range rows {
		date := strings.TrimSpace(r.RateDate)
		day, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, invalid(name, "row %d: rate date %q is not YYYY-MM-DD", i, r.RateDate)
		}
		days[date] = day
		code, ok := Code(r.Currency)
		if !ok {
			if normalize(r.Currency) == "" {
				return nil, invalid(name, "row %d (%s) has no currency name", i, date)
			}
			skipped[date] = append(skipped[date], r.Currency)
			continue
		}
		if !r.Central.set {
			return nil, invalid(name, "%s on %s has no central rate", r.Currency, date)
		}
		value := strings.TrimSpace(r.Central.s)
		k := key{date, code}
		if prev, dup := central[k]; dup {
			if prev != value {
				return nil, invalid(name, "%s on %s appears twice, with central rates %q and %q", code, date, prev, value)
			}
			continue
		}
		central[k] = value
		order = append(order, k)
	}

	byDate := map[string][]fx.RateSet{}
	for _, k := range order {
		b, err := provider.NewBuilder(name, k.code, PublicationTime(days[k.date]), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, central[k]); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, k.code, k.date)
		}
		set, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, k.code, k.date)
		}
		byDate[k.date] = append(byDate[k.date], set)
	}
	dates := make([]string, 0, len(days))
	for date := range days {
		dates = append(dates, date)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dates))) // YYYY-MM-DD sorts as dates do
	var sets []fx.RateSet
	for _, date := range dates {
		day := byDate[date]
		if len(day) == 0 {
			return nil, invalid(name, "%s has no usable rates (only %s)", date, strings.Join(skipped[date], ", "))
		}
		sort.Slice(day, func(i, j int) bool { return day[i].Base < day[j].Base })
		day[0].Skipped = uniqueSorted(skipped[date])
		sets = append(sets, day...)
	}
	return sets, nil
}

func uniqueSorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	n := 1
	for _, v := range out[1:] {
		if v != out[n-1] {
			out[n] = v
			n++
		}
	}
	return out[:n]
}

func invalid(name, format string, args ...any) error {
	return provider.Invalid("provider "+name+": "+format, args...)
}

// Client fetches CBN rates over HTTP (or from a file URL, see provider.Get).
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

// Latest returns the newest publication: one set per foreign currency.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return newest(sets), nil
}

// History returns the sets dated from to to (inclusive), oldest first and,
// within a date, by Base, from one request for the whole array.
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

// newest returns the leading sets that share the first set's as_of.
func newest(sets []fx.RateSet) []fx.RateSet {
	n := 1
	for n < len(sets) && sets[n].AsOf.Equal(sets[0].AsOf) {
		n++
	}
	return sets[:n:n]
}

func (c *Client) get(ctx context.Context) ([]fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+"/GetAllExchangeRates")
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
			// The endpoint holds every date: a 404 means a wrong base URL.
			return nil, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return nil, err
	}
	return Parse(Name, body)
}
