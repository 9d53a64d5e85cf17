// Package file reads rates from a local ECB eurofxref XML or Open Exchange
// Rates JSON file, for air-gapped deployments and offline demos.
package file

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/provider/ecb"
	"ces/internal/provider/oxr"
)

// Name is the provider name stored with rates read from a file.
const Name = "file"

// Client reads one file on every fetch, so replacing the file is how an
// operator publishes new rates.
type Client struct {
	path string
}

// NewClient returns a Client for path.
func NewClient(path string) *Client { return &Client{path: path} }

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Fetch returns the newest set in the file when day is zero, otherwise the
// set in force on day (ECB history files hold many days).
func (c *Client) Fetch(ctx context.Context, day time.Time) (fx.RateSet, error) {
	sets, isXML, err := c.read(ctx)
	if err != nil {
		return fx.RateSet{}, err
	}
	if day.IsZero() {
		return sets[0], nil
	}
	if isXML {
		return ecb.ForDate(Name, sets, day)
	}
	if set := sets[0]; set.AsOf.After(endOfDay(day)) {
		return fx.RateSet{}, provider.Permanent(provider.TypeNoRatesForDate,
			fmt.Errorf("provider file: %s holds rates of %s, none on or before %s", c.path, set.AsOf.Format(time.RFC3339), day.Format(time.DateOnly)))
	}
	return sets[0], nil
}

// Latest returns the newest set in the file.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, _, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	return sets[:1], nil
}

// History returns the file's sets dated from to to (inclusive), oldest
// first: the reference days of an ECB file, or the single Open Exchange
// Rates set when its date is in range.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, _, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// read parses the file into its sets, newest first; isXML tells an ECB file
// (many days, weekend carry-forward) from an Open Exchange Rates one.
func (c *Client) read(ctx context.Context) (sets []fx.RateSet, isXML bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("provider file: %w", err)
	}
	payload, err := os.ReadFile(c.path)
	if err != nil {
		// A missing file may appear (the operator is copying it): retryable.
		return nil, false, fmt.Errorf("provider file: %w", err)
	}
	trimmed := bytes.TrimSpace(payload)
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		sets, err := ecb.Parse(Name, payload)
		return sets, true, err
	case bytes.HasPrefix(trimmed, []byte("{")):
		set, err := oxr.Parse(Name, payload)
		if err != nil {
			return nil, false, err
		}
		return []fx.RateSet{set}, false, nil
	}
	return nil, false, provider.Invalid("provider file: %s is neither eurofxref XML nor Open Exchange Rates JSON", c.path)
}

func endOfDay(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, time.UTC)
}
