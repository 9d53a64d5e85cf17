// Package file reads rates from a local ECB eurofxref XML or Open Exchange
// Rates JSON file, for air-gapped deployments and offline demos. It offers
// the file's newest set (Latest) and the sets dated within a range
// (History); a day the file holds no set for is absent, never filled with
// an earlier day's rates.
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

// Client reads its file anew on every Latest and History call, so
// replacing the file is how an operator publishes new rates.
type Client struct {
	path string
}

// NewClient returns a Client for path.
func NewClient(path string) *Client { return &Client{path: path} }

// Name returns the provider name.
func (c *Client) Name() string { return Name }

// Latest returns the newest set in the file.
func (c *Client) Latest(ctx context.Context) ([]fx.RateSet, error) {
	sets, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	return sets[:1], nil
}

// History returns the file's sets dated from to to (inclusive), oldest
// first: the reference days of an ECB file, or the single Open Exchange
// Rates set when its date is in range. Days the file holds no rates for
// are absent.
func (c *Client) History(ctx context.Context, from, to time.Time) ([]fx.RateSet, error) {
	if err := provider.CheckRange(Name, from, to); err != nil {
		return nil, err
	}
	sets, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	return provider.Between(sets, from, to), nil
}

// read parses the file into its sets, newest first: the reference days of
// an ECB file, or the one set of an Open Exchange Rates file.
func (c *Client) read(ctx context.Context) ([]fx.RateSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("provider file: %w", err)
	}
	payload, err := os.ReadFile(c.path)
	if err != nil {
		// A missing file may appear (the operator is copying it): retryable.
		return nil, fmt.Errorf("provider file: %w", err)
	}
	trimmed := bytes.TrimSpace(payload)
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		return ecb.Parse(Name, payload)
	case bytes.HasPrefix(trimmed, []byte("{")):
		set, err := oxr.Parse(Name, payload)
		if err != nil {
			return nil, err
		}
		return []fx.RateSet{set}, nil
	}
	return nil, provider.Invalid("provider file: %s is neither eurofxref XML nor Open Exchange Rates JSON", c.path)
}
