// Package bcb reads the Banco Central do Brasil's PTAX exchange rates from
// its keyless Olinda OData service (CotacaoMoedaPeriodo): for each of the
// ten currencies PTAX quotes, reais per one unit of that currency (the
// yen too is quoted per 1 JPY), as a buying and a selling rate of the
// closing bulletin ("Fechamento"), one per Brazilian business day at about
// 13:10 Brasília time. CES stores the middle, (buy+sell)/2, exactly.
// The service is public and needs no API key; no terms-of-use URL is
// recorded for it (the publisher metadata has none).
package bcb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the bulletin time is Brasília local time; images may lack tzdata

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every BCB rate.
const Name = "bcb"

// DefaultBaseURL is the root of the BCB's PTAX OData service.
const DefaultBaseURL = "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata"

// Quote is the currency every PTAX rate is quoted in: a set's Base is the
// foreign currency and its single rate is the price of one unit in reais.
const Quote = "BRL"

// Currencies are the currencies PTAX publishes (the service's Moedas
// list); the OData service answers one currency per request.
var Currencies = []string{"AUD", "CAD", "CHF", "DKK", "EUR", "GBP", "JPY", "NOK", "SEK", "USD"}

// brasilia is the zone of the bulletin times. Brazil kept daylight saving
// until 2019, so the zone database (not a fixed offset) reads older
// bulletins right.
var brasilia = mustLoad("America/Sao_Paulo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// closing is the bulletin type CES reads: the day's closing PTAX. The
// intermediate bulletins of the same day are provisional.
const closing = "Fechamento"

type payload struct {
	Value *[]struct {
		Buy      json.Number `json:"cotacaoCompra"`
		Sell     json.Number `json:"cotacaoVenda"`
		Time     string      `json:"dataHoraCotacao"`
		Bulletin string      `json:"tipoBoletim"`
	} `json:"value"`
}

// Parse reads one currency's CotacaoMoedaPeriodo answer into one RateSet
// per closing bulletin, oldest first: Base is code, the one rate is the
// middle of the buying and selling rates in BRL, as_of is the bulletin's
// own time (dataHoraCotacao, Brasília time). Bulletins other than the
// closing one are ignored. An empty list is no error (no business day in
// the range).
func Parse(name, code string, body []byte) ([]fx.RateSet, error) {
	var p payload
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber() // rates stay decimal text, never float64
	if err := dec.Decode(&p); err != nil {
		return nil, provider.Invalid("provider %s: %s: not an OData JSON answer: %v", name, code, err)
	}
	if p.Value == nil {
		return nil, provider.Invalid("provider %s: %s: answer has no value list", name, code)
	}
	var sets []fx.RateSet
	seen := map[string]bool{}
	for i, r := range *p.Value {
		if r.Bulletin != closing {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", strings.TrimSpace(r.Time), brasilia)
		if err != nil {
			return nil, provider.Invalid("provider %s: %s row %d: bulletin time %q: %v", name, code, i, r.Time, err)
		}
		day := at.Format(time.DateOnly)
		if seen[day] {
			return nil, provider.Invalid("provider %s: %s has two closing bulletins on %s", name, code, day)
		}
		seen[day] = true
		mid, err := middle(r.Buy.String(), r.Sell.String())
		if err != nil {
			return nil, provider.Invalid("provider %s: %s on %s: %v", name, code, day, err)
		}
		b, err := provider.NewBuilder(name, code, at, body)
		if err != nil {
			return nil, err
		}
		if err := b.Add(Quote, mid); err != nil {
			return nil, fmt.Errorf("%w (%s on %s)", err, code, day)
		}
		set, err := b.Build()
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
}

// middle returns (buy+sell)/2 exactly: halving a decimal is exact, so
// multiplying by 0.5 keeps every digit.
func middle(buy, sell string) (string, error) {
	b, err := decimal.NewFromString(buy)
	if err != nil {
		return "", fmt.Errorf("buying rate %q: %v", buy, err)
	}
	s, err := decimal.NewFromString(sell)
	if err != nil {
		return "", fmt.Errorf("selling rate %q: %v", sell, err)
	}
	if !b.IsPositive() || !s.IsPositive() || s.LessThan(b) {
		return "", fmt.Errorf("buying rate %s and selling rate %s are not a positive spread", buy, sell)
	}
	return fx.Exact(b.Add(s).Mul(decimal.New(5, -1))), nil
}

// Client fetches PTAX rates over HTTP.
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

// latestWindow is how far back Latest looks for the newest bulletin: wide
// enough to cross Carnival and the year-end holidays.
const latestWindow = 10 * 24 * time.Hour

// Latest returns the newest closing bulletin: one set per currency, all of
// the newest date any currency has.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	now := c.now().In(brasilia)
	sets, err := c.fetch(ctx, now.Add(-latestWindow), now)
	if err != nil {
		return nil, err
	}
	if len(sets) == 0 {
		return nil, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider %s: no closing bulletin since %s", Name, now.Add(-latestWindow).Format(time.DateOnly)))
	}
	newest := provider.Date(sets[len(sets)-1].AsOf.In(brasilia))
	return provider.Between(sets, newest, newest), nil
}

// History returns the closing bulletins dated from to to (inclusive),
// oldest first and, within a date, by Base, with one request per currency
// for the whole range (the service serves ranges but one currency at a
// time).
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

// fetch asks for every currency's closing bulletins between the dates of
// from and to, one request per currency, and returns all sets sorted.
func (c *Client) fetch(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	var all []fx.RateSet
	for _, code := range Currencies {
		body, err := provider.Get(ctx, c.http, Name, c.url(code, from, to))
		if err != nil {
			return nil, err
		}
		sets, err := Parse(Name, code, body)
		if err != nil {
			return nil, err
		}
		all = append(all, sets...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].AsOf.Equal(all[j].AsOf) {
			return all[i].AsOf.Before(all[j].AsOf)
		}
		return all[i].Base < all[j].Base
	})
	return all, nil
}

// url builds the OData query for code's closing bulletins from from to to;
// the service wants dates as MM-DD-YYYY in quotes.
func (c *Client) url(code string, from, to time.Time) string {
	q := func(s string) string { return url.QueryEscape("'" + s + "'") }
	return c.baseURL + "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)" +
		"?$filter=" + url.PathEscape("tipoBoletim eq '"+closing+"'") + "&$format=json" +
		"&@dataFinalCotacao=" + q(to.Format("01-02-2006")) +
		"&@dataInicial=" + q(from.Format("01-02-2006")) +
		"&@moeda=" + q(code)
}
