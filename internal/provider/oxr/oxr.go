// Package oxr reads Open Exchange Rates (latest.json and
// historical/YYYY-MM-DD.json): USD-based, about 170 codes, hourly updates,
// authenticated with an app_id.
package oxr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// Client fetches Open Exchange Rates over HTTP.
type Client struct {
	baseURL string
	appID   string
	http    *http.Client
}

// NewClient returns a Client for baseURL (DefaultBaseURL when empty) that
// authenticates with appID.
func NewClient(baseURL, appID string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), appID: appID, http: hc}
}

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Fetch returns the latest rates when day is zero, or the end-of-day rates
// of day from the historical endpoint.
func (c *Client) Fetch(ctx context.Context, day time.Time) (fx.RateSet, error) {
	path := "/latest.json"
	if !day.IsZero() {
		path = "/historical/" + day.UTC().Format(time.DateOnly) + ".json"
	}
	body, err := provider.Get(ctx, c.http, Name, c.baseURL+path+"?app_id="+url.QueryEscape(c.appID))
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) && pe.Type == provider.TypeNoRatesForDate && day.IsZero() {
			// A 404 on latest.json means a wrong base URL, not a missing day.
			return fx.RateSet{}, provider.Permanent(provider.TypeRequestRejected, pe.Err)
		}
		return fx.RateSet{}, err
	}
	set, err := Parse(Name, body)
	if err != nil {
		return fx.RateSet{}, err
	}
	if set.AsOf.After(time.Now().Add(time.Hour)) {
		return fx.RateSet{}, provider.Invalid("provider %s: timestamp %s is in the future", Name, set.AsOf.Format(time.RFC3339))
	}
	return set, nil
}
