package provider

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
)

// ValCurs describes a publisher's ValCurs XML export, the format several
// central banks of the former Soviet Union share: a Date attribute and one
// Valute per currency, each a Value in the publisher's currency for a
// Nominal of foreign units.
type ValCurs struct {
	// Name is the provider's key, Quote its currency.
	Name, Quote string
	// DateLayout is how the export writes its Date (time.Parse layout),
	// and DateShown the same for a person reading an error.
	DateLayout, DateShown string
	// PublicationTime is the as_of of a rate dated day.
	PublicationTime func(day time.Time) time.Time
}

type valCurs struct {
	XMLName xml.Name `xml:"ValCurs"`
	Date    string   `xml:"Date,attr"`
	Valutes []struct {
		CharCode string `xml:"CharCode"`
		Nominal  string `xml:"Nominal"`
		Value    string `xml:"Value"`
	} `xml:"Valute"`
}

// Parse reads one date's export into one RateSet per ISO 4217 currency,
// Base that currency and one rate of Quote per single unit (a Value for
// 10, 100 or 1000 units is divided exactly; any other Nominal is refused),
// sorted by Base. Codes that are no ISO 4217 currency are named in
// Skipped of the first set; a code listed twice refuses the export.
func (f ValCurs) Parse(payload []byte) ([]fx.RateSet, error) {
	invalid := func(format string, args ...any) error {
		return Invalid("provider "+f.Name+": "+format, args...)
	}
	var doc valCurs
	if err := xml.NewDecoder(bytes.NewReader(payload)).Decode(&doc); err != nil {
		return nil, invalid("not an official exchange rates export: %v", err)
	}
	day, err := time.Parse(f.DateLayout, strings.TrimSpace(doc.Date))
	if err != nil {
		return nil, invalid("Date %q is not %s", doc.Date, f.DateShown)
	}
	if len(doc.Valutes) == 0 {
		return nil, invalid("the export for %s has no rates", doc.Date)
	}
	var sets []fx.RateSet
	var skipped []string
	seen := map[string]bool{}
	for _, v := range doc.Valutes {
		code := strings.TrimSpace(v.CharCode)
		if seen[code] {
			return nil, invalid("%s appears twice on %s", code, doc.Date)
		}
		seen[code] = true
		if _, ok := fx.LookupCurrency(code); !ok {
			skipped = append(skipped, code)
			continue
		}
		value, err := perNominal(v.Nominal, v.Value)
		if err != nil {
			return nil, invalid("%s on %s: %v", code, doc.Date, err)
		}
		b, err := NewBuilder(f.Name, code, f.PublicationTime(day), payload)
		if err != nil {
			return nil, err
		}
		if err := b.Add(f.Quote, value); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, doc.Date)
		}
		s, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	if len(sets) == 0 {
		return nil, invalid("%s has no usable rates (only %s)", doc.Date, strings.Join(skipped, ", "))
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Base < sets[j].Base })
	sort.Strings(skipped)
	sets[0].Skipped = skipped
	return sets, nil
}

// perNominal turns a Value for nominal units into the price of one unit
// as exact text. A nominal that is not a power of ten could not be divided
// exactly and is refused.
func perNominal(nominal, value string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(nominal), 10, 64)
	shift, ok := powerOfTen(n)
	if err != nil || n <= 0 || !ok {
		return "", fmt.Errorf("nominal %q is not 1, 10, 100, ...", nominal)
	}
	d, err := decimal.NewFromString(strings.TrimSpace(value))
	if err != nil {
		return "", fmt.Errorf("value %q is not a number", value)
	}
	return fx.Exact(d.Shift(-shift)), nil
}
