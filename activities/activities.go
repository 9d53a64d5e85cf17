// Package activities holds the I/O of rate ingestion: fetching from a
// provider, inserting into PostgreSQL and caching in Redis. Each activity
// is idempotent, so Temporal may retry any of them at any point.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/provider"
	"ces/internal/store"
)

// Fetcher is what an ingestion needs of a provider adapter: the latest
// rates when day is zero, otherwise those in force on day.
type Fetcher interface {
	Fetch(ctx context.Context, day time.Time) (fx.RateSet, error)
}

// Activities are the ingestion activities with their dependencies. The
// worker registers one value; the workflow calls its methods by reference.
type Activities struct {
	Providers map[string]Fetcher
	Store     *store.Store
	Cache     *cache.Cache
	Now       func() time.Time
	// Metrics counts rates per provider; nil disables it.
	Metrics IngestObserver
}

// IngestObserver counts what ingestions did, per provider.
type IngestObserver interface {
	Fetched(provider string, n int)
	Skipped(provider string, n int)
	Inserted(provider string, n int)
	AlreadyPresent(provider string, n int)
}

// TypeUnknownProvider is the error type of a FetchRates call naming a
// provider this worker does not have.
const TypeUnknownProvider = "UnknownProvider"

// Quote is a rate as text with every digit the provider sent; decimal's
// JSON form would drop trailing zeros on the way through Temporal.
type Quote struct {
	Quote string `json:"quote"`
	Rate  string `json:"rate"`
}

// FetchRatesInput names the provider and, for a backfill, the day.
type FetchRatesInput struct {
	Provider string `json:"provider"`
	// Date is YYYY-MM-DD for historical rates, empty for the latest.
	Date string `json:"date,omitempty"`
}

// FetchRatesResult is one provider publication.
type FetchRatesResult struct {
	Provider      string    `json:"provider"`
	Base          string    `json:"base"`
	AsOf          time.Time `json:"as_of"`
	FetchedAt     time.Time `json:"fetched_at"`
	PayloadSHA256 string    `json:"payload_sha256"`
	Rates         []Quote   `json:"rates"`
	Skipped       []string  `json:"skipped,omitempty"`
}

// FetchRates reads one publication from the provider. Permanent provider
// failures come back as non-retryable application errors whose type is
// the provider's failure type; everything else is retried.
func (a *Activities) FetchRates(ctx context.Context, in FetchRatesInput) (FetchRatesResult, error) {
	p, ok := a.Providers[in.Provider]
	if !ok {
		return FetchRatesResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("fetch rates: this worker has no provider %q", in.Provider), TypeUnknownProvider, nil)
	}
	var day time.Time
	if in.Date != "" {
		d, err := time.Parse(time.DateOnly, in.Date)
		if err != nil {
			return FetchRatesResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("fetch rates: date %q is not YYYY-MM-DD", in.Date), provider.TypeRequestRejected, nil)
		}
		day = d
	}
	set, err := p.Fetch(ctx, day)
	if err != nil {
		var pe *provider.PermanentError
		if errors.As(err, &pe) {
			return FetchRatesResult{}, temporal.NewNonRetryableApplicationError(pe.Error(), pe.Type, nil)
		}
		return FetchRatesResult{}, fmt.Errorf("fetch rates: %w", err)
	}
	out := FetchRatesResult{
		Provider: set.Provider, Base: set.Base, AsOf: set.AsOf.UTC(), FetchedAt: a.now().UTC(),
		PayloadSHA256: set.PayloadHash, Skipped: set.Skipped,
	}
	for _, r := range set.Rates {
		out.Rates = append(out.Rates, Quote{Quote: r.Quote, Rate: fx.Exact(r.Value)})
	}
	if a.Metrics != nil {
		a.Metrics.Fetched(set.Provider, len(set.Rates))
		a.Metrics.Skipped(set.Provider, len(set.Skipped))
	}
	activity.GetLogger(ctx).Info("fetched rates", "provider", set.Provider, "base", set.Base,
		"as_of", set.AsOf, "rates", len(set.Rates), "skipped", len(set.Skipped))
	return out, nil
}

// StoredRate is a row of exchange_rates as the cache needs it.
type StoredRate struct {
	ID        int64     `json:"id"`
	Quote     string    `json:"quote"`
	Rate      string    `json:"rate"`
	AsOf      time.Time `json:"as_of"`
	FetchedAt time.Time `json:"fetched_at"`
}

// InsertRatesResult reports what InsertRates did.
type InsertRatesResult struct {
	Inserted       int          `json:"inserted"`
	AlreadyPresent int          `json:"already_present"`
	Conflicts      []string     `json:"conflicts,omitempty"`
	Stored         []StoredRate `json:"stored"`
}

// InsertRates stores a publication, recording the workflow run that did
// it. A retry, or a later run that fetches the same publication, inserts
// nothing and gets back the rows already stored.
func (a *Activities) InsertRates(ctx context.Context, in FetchRatesResult) (InsertRatesResult, error) {
	set := fx.RateSet{Provider: in.Provider, Base: in.Base, AsOf: in.AsOf, PayloadHash: in.PayloadSHA256}
	for _, q := range in.Rates {
		v, err := decimal.NewFromString(q.Rate)
		if err != nil {
			return InsertRatesResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("insert rates: %s rate %q is not a decimal", q.Quote, q.Rate), provider.TypeInvalidPayload, nil)
		}
		set.Rates = append(set.Rates, fx.QuotedRate{Quote: q.Quote, Value: v})
	}
	info := activity.GetInfo(ctx)
	res, err := a.Store.InsertRates(ctx, set, store.Origin{
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, FetchedAt: in.FetchedAt,
	})
	if err != nil {
		return InsertRatesResult{}, err
	}
	if len(res.Conflicts) > 0 {
		activity.GetLogger(ctx).Warn("provider revised published rates; history keeps the first values",
			"provider", in.Provider, "as_of", in.AsOf, "quotes", res.Conflicts)
	}
	if a.Metrics != nil {
		a.Metrics.Inserted(in.Provider, res.Inserted)
		a.Metrics.AlreadyPresent(in.Provider, res.AlreadyPresent)
	}
	out := InsertRatesResult{Inserted: res.Inserted, AlreadyPresent: res.AlreadyPresent, Conflicts: res.Conflicts}
	for _, r := range res.Stored {
		out.Stored = append(out.Stored, StoredRate{ID: r.ID, Quote: r.Quote, Rate: fx.Exact(r.Value), AsOf: r.AsOf, FetchedAt: r.FetchedAt})
	}
	return out, nil
}

// CacheRatesInput is what CacheRates writes.
type CacheRatesInput struct {
	Provider string       `json:"provider"`
	Base     string       `json:"base"`
	Rates    []StoredRate `json:"rates"`
}

// CacheRatesResult reports how many cached quotes changed.
type CacheRatesResult struct {
	Updated int `json:"updated"`
}

// CacheRates makes stored rates the cached latest where they are newer
// than what Redis holds; an older publication (a backfill) changes nothing.
func (a *Activities) CacheRates(ctx context.Context, in CacheRatesInput) (CacheRatesResult, error) {
	rates := make([]fx.Rate, 0, len(in.Rates))
	for _, r := range in.Rates {
		v, err := decimal.NewFromString(r.Rate)
		if err != nil {
			return CacheRatesResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("cache rates: %s rate %q is not a decimal", r.Quote, r.Rate), provider.TypeInvalidPayload, nil)
		}
		rates = append(rates, fx.Rate{ID: r.ID, Provider: in.Provider, Base: in.Base, Quote: r.Quote, Value: v, AsOf: r.AsOf, FetchedAt: r.FetchedAt})
	}
	n, err := a.Cache.SetLatest(ctx, in.Provider, in.Base, rates)
	if err != nil {
		return CacheRatesResult{}, err
	}
	return CacheRatesResult{Updated: n}, nil
}
