// Package oxr reads Open Exchange Rates (latest.json and
// historical/YYYY-MM-DD.json): USD-based, about 170 codes, hourly updates,
// authenticated with an app_id.
package oxr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"ces/internal/fx"
	"ces/internal/provider"
)

// Name is the provider name stored with every Open Exchange Rates rate.
const Name = "openexchangerates"

// DefaultBaseURL is the Open Exchange Rates API root.
const DefaultBaseURL = "https://openexchangerates.org/api"

type document struct {
	Timestamp *int64          `json:"timestamp"`
	Base      string          `json:"base"`
	Rates     json.RawMessage `json:"rates"`
	// Error fields, present when the API refuses a request.
	Error       bool   `json:"error"`
	Message     string `json:"message"`
	Description string `json:"description"`
}

// Parse reads an Open Exchange Rates document. Rates are read from their
// JSON text (never through float64) and in document order, so a
// duplicated code is caught rather than silently overwritten.
func Parse(name string, payload []byte) (fx.RateSet, error) {
	var doc document
	if err := json.Unmarshal(payload, &doc); err != nil {
		return fx.RateSet{}, provider.Invalid("provider %s: not JSON: %v", name, err)
	}
	if doc.Error {
		return fx.RateSet{}, provider.Invalid("provider %s: API error %s", name, doc.Message)
	}
	if doc.Base == "" {
		return fx.RateSet{}, provider.Invalid("provider %s: payload has no base", name)
	}
	if doc.Timestamp == nil || *doc.Timestamp <= 0 {
		return fx.RateSet{}, provider.Invalid("provider %s: payload has no timestamp", name)
	}
	b, err := provider.NewBuilder(name, doc.Base, time.Unix(*doc.Timestamp, 0), payload)
	if err != nil {
		return fx.RateSet{}, err
	}
	if len(doc.Rates) == 0 {
		return fx.RateSet{}, provider.Invalid("provider %s: payload has no rates", name)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Rates))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fx.RateSet{}, provider.Invalid("provider %s: rates is not an object", name)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fx.RateSet{}, provider.Invalid("provider %s: rates: %v", name, err)
		}
		code, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return fx.RateSet{}, provider.Invalid("provider %s: rates: %v", name, err)
		}
		num, ok := vt.(json.Number)
		if !ok {
			return fx.RateSet{}, provider.Invalid("provider %s: %s rate is not a number", name, code)
		}
		if err := b.Add(code, num.String()); err != nil {
			return fx.RateSet{}, err
		}
	}
	return b.Build()
}

// DefaultMaxInFlight is how many historical requests History keeps in
// flight unless the Client says otherwise.
const DefaultMaxInFlight = 4

// Client fetches Open Exchange Rates over HTTP.
type Client struct {
	// MaxInFlight bounds the historical requests History runs at once
	// (DefaultMaxInFlight when zero or negative). Set it before use.
	MaxInFlight int

	baseURL string
	appID   string
	http    *http.Client
	now     func() time.Time
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty) that
// authenticates with appID.
func NewClient(baseURL, appID string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{
		MaxInFlight: DefaultMaxInFlight,
		baseURL:     strings.TrimRight(baseURL, "/"),
		appID:       appID,
		http:        hc,
		now:         time.Now,
	}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest rates, from latest.json.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	set, err := c.latest(ctx)
	if err != nil {
		return nil, err
	}
	return []fx.RateSet{set}, nil
}

// History returns the end-of-day sets dated from to to (inclusive),
// oldest first, with one historical request per day and at most
// MaxInFlight of them at once. Days after today (UTC) are not asked for;
// a day the API has no rates for (404) is absent; any other permanent
// failure fails the whole range, and the first failure cancels the
// requests still running.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	if today := provider.Date(c.now().UTC()); provider.Date(to).After(today) {
		to = today
	}
	days := provider.Days(from, to)
	found := make([]*fx.RateSet, len(days))
	limit := c.MaxInFlight
	if limit <= 0 {
		limit = DefaultMaxInFlight
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, day := range days {
		if gctx.Err() != nil {
			break // a request failed: start no more
		}
		g.Go(func() error {
			set, err := c.historical(gctx, day)
			var pe *provider.PermanentError
			if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
				return nil
			}
			if err != nil {
				return err
			}
			found[i] = &set
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("provider %s: history: %w", Name, err)
	}
	sets := make([]fx.RateSet, 0, len(found))
	seen := map[int64]*fx.RateSet{} // by as_of
	for _, s := range found {
		if s == nil {
			continue
		}
		// Two days' answers may be one publication (a day not yet closed
		// answers with the latest rates); keep it once.
		key := s.AsOf.UnixNano()
		if prev, ok := seen[key]; ok {
			if !sameRates(prev, s) {
				return nil, provider.Invalid("provider %s: two different sets of rates published at %s", Name, s.AsOf.Format(time.RFC3339))
			}
			continue
		}
		seen[key] = s
		sets = append(sets, *s)
	}
	return provider.Between(sets, from, to), nil
}

// sameRates reports whether a and b quote the same values against the
// same base (Build sorts quotes, so order is comparable).
func sameRates(a, b *fx.RateSet) bool {
	if a.Base != b.Base || len(a.Rates) != len(b.Rates) {
		return false
	}
	for i := range a.Rates {
		if a.Rates[i].Quote != b.Rates[i].Quote || !a.Rates[i].Value.Equal(b.Rates[i].Value) {
			return false
		}
	}
	return true
}

func (c *Client) latest(ctx context.Context) (fx.RateSet, error) {
	set, err := c.get(ctx, "/latest.json")
	var pe *provider.PermanentError
	if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate {
		// A 404 on latest.json means a wrong base URL, not a missing day.
		return fx.RateSet{}, provider.Permanent(provider.TypeRequestRejected, pe.Err)
	}
	return set, err
}

func (c *Client) historical(ctx context.Context, day time.Time) (fx.RateSet, error) {
	return c.get(ctx, "/historical/"+day.UTC().Format(time.DateOnly)+".json")
}

func (c *Client) get(ctx context.Context, path string) (fx.RateSet, error) {
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?app_id="+url.QueryEscape(c.appID))
	if err != nil {
		return fx.RateSet{}, err
	}
	set, err := Parse(Name, body)
	if err != nil {
		return fx.RateSet{}, err
	}
	if set.AsOf.After(c.now().Add(time.Hour)) {
		return fx.RateSet{}, provider.Invalid("provider %s: timestamp %s is in the future", Name, set.AsOf.Format(time.RFC3339))
	}
	return set, nil
}
