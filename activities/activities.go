// Package activities holds the I/O of rate ingestion: fetching from a
// provider, inserting into PostgreSQL and caching in Redis. Each activity
// is idempotent, so Temporal may retry any of them at any point.
package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"ces/internal/anchor"
	"ces/internal/audit"
	"ces/internal/cache"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/provider"
	"ces/internal/store"
	"ces/internal/verifier"
)

// Activities are the ingestion activities with their dependencies. The
// worker registers one value; the workflow calls its methods by reference.
type Activities struct {
	// Providers are the adapters by name; every worker holds every
	// configured provider, so any worker can run any provider's ingestion.
	Providers map[string]provider.Source
	// Rates stores fetched rates and reads the released ones back
	// (*store.Rates); Quality says which series the gate holds
	// (*store.Quality); Audit seals and verifies the conversion log
	// (*store.Audit).
	Rates   RateStore
	Quality HeldReader
	Audit   AuditStore
	Cache   *cache.Cache
	Now     func() time.Time
	// JumpLimit is the quality gate's band (RATE_JUMP_LIMIT); zero turns
	// the gate off.
	JumpLimit decimal.Decimal
	// Consensus is the gate's consensus check (GATE_CONSENSUS_*; zero:
	// off) and ReferenceMaxAge the oldest other publisher's rate it weighs
	// (GATE_REFERENCE_MAX_AGE; zero: by cadence). Only the publishers in
	// Providers (FX_PROVIDERS) are weighed.
	Consensus       policy.Consensus
	ReferenceMaxAge time.Duration
	// Metrics counts rates per provider; nil disables it.
	Metrics IngestObserver
	// Signer signs seals with AUDIT_SIGNING_KEY_FILE; Anchor keeps their
	// copy outside PostgreSQL. Sealing refuses to run without both.
	Signer *audit.Signer
	Anchor anchor.Sink
	// KeyRetention is how long idempotency keys are kept
	// (IDEMPOTENCY_KEY_RETENTION); sealing forgets older ones. Zero keeps
	// them all.
	KeyRetention time.Duration
	// Publications reads the instants of stored publications
	// (*store.Rates) and Health records health checks (*store.Health),
	// judged by HealthRule (zero: policy.DefaultHealthRule); HealthMetrics
	// sets the gauges (nil: none).
	Publications  PublicationReader
	Health        HealthRecorder
	HealthRule    policy.HealthRule
	HealthMetrics HealthObserver
}

// RateStore is what ingestion writes and reads of exchange_rates.
type RateStore interface {
	InsertSets(ctx context.Context, sets []fx.RateSet, origin store.Origin) (store.InsertResult, error)
	LatestServable(ctx context.Context, providers, codes []string, at time.Time) ([]fx.Rate, error)
}

// HeldReader reads the series whose newest publication the gate holds.
type HeldReader interface {
	HeldSeries(ctx context.Context) (map[policy.Series]time.Time, error)
}

// AuditStore seals the conversion log and verifies it.
type AuditStore interface {
	verifier.Store
	Seal(ctx context.Context, workflowID, runID string, now time.Time, signer *audit.Signer) (audit.Seal, bool, error)
	Seals(ctx context.Context, after int64) ([]audit.Seal, error)
	RegisterSigningKey(ctx context.Context, keyID string, publicKeyPEM []byte) error
	MakeAuditPartitions(ctx context.Context, ahead int) ([]string, error)
	PruneIdempotencyKeys(ctx context.Context, keep time.Duration) (int64, error)
}

// IngestObserver counts what ingestions did, per provider.
type IngestObserver interface {
	Fetched(provider string, n int)
	Skipped(provider string, n int)
	Inserted(provider string, n int)
	AlreadyPresent(provider string, n int)
	Quarantined(provider string, n int)
	NotFinal(provider string, n int)
}

// TypeUnknownProvider is the (retryable) error type of a call naming a
// provider this worker does not have.
const TypeUnknownProvider = "UnknownProvider"

// Quote is a rate as text with every digit the provider sent; decimal's
// JSON form would drop trailing zeros on the way through Temporal. Base
// and AsOf are set where they differ from the result's (the CBN publishes
// one series per foreign currency, all against NGN).
type Quote struct {
	Quote string    `json:"quote"`
	Rate  string    `json:"rate"`
	Base  string    `json:"base,omitempty"`
	AsOf  time.Time `json:"as_of,omitzero"`
}

// FetchRatesInput names the provider and, for a backfill, the day.
type FetchRatesInput struct {
	Provider string `json:"provider"`
	// Date is YYYY-MM-DD for historical rates, empty for the latest.
	Date string `json:"date,omitempty"`
}

// FetchRatesResult is one provider publication. Base and AsOf are those
// of its first set and its newest as_of.
type FetchRatesResult struct {
	Provider      string    `json:"provider"`
	Base          string    `json:"base"`
	AsOf          time.Time `json:"as_of"`
	FetchedAt     time.Time `json:"fetched_at"`
	PayloadSHA256 string    `json:"payload_sha256"`
	Rates         []Quote   `json:"rates"`
	Skipped       []string  `json:"skipped,omitempty"`
}

// FetchRates reads one publication from the provider: the latest, or
// the one of Date (NoRatesForDate when the provider published nothing
// that day; a weekend is not carried forward). Permanent provider
// failures come back as non-retryable application errors whose type is
// the provider's failure type; everything else is retried.
func (a *Activities) FetchRates(ctx context.Context, in FetchRatesInput) (FetchRatesResult, error) {
	p, err := a.source(in.Provider)
	if err != nil {
		return FetchRatesResult{}, err
	}
	var sets []fx.RateSet
	if in.Date != "" {
		day, perr := time.Parse(time.DateOnly, in.Date)
		if perr != nil {
			return FetchRatesResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("fetch rates: date %q is not YYYY-MM-DD", in.Date), provider.TypeRequestRejected, nil)
		}
		sets, err = p.History(ctx, day, day)
		if err == nil && len(sets) == 0 {
			err = provider.Permanent(provider.TypeNoRatesForDate,
				fmt.Errorf("provider %s published no rates on %s", in.Provider, in.Date))
		}
	} else {
		sets, err = p.Latest(ctx)
	}
	if err != nil {
		return FetchRatesResult{}, providerError("fetch rates", err)
	}
	out := toResult(in.Provider, sets, a.now())
	if a.Metrics != nil {
		a.Metrics.Fetched(in.Provider, len(out.Rates))
		a.Metrics.Skipped(in.Provider, len(out.Skipped))
	}
	activity.GetLogger(ctx).Info("fetched rates", "provider", in.Provider, "base", out.Base,
		"as_of", out.AsOf, "rates", len(out.Rates), "skipped", len(out.Skipped))
	return out, nil
}

func (a *Activities) source(name string) (provider.Source, error) {
	p, ok := a.Providers[name]
	if !ok {
		// Retryable: while workers are being reconfigured (rolled out one
		// by one), another worker on the queue may hold the provider.
		return nil, temporal.NewApplicationError(
			fmt.Sprintf("this worker has no provider %q (set FX_PROVIDERS alike on every worker)", name), TypeUnknownProvider)
	}
	return p, nil
}

// providerError turns a provider failure into a Temporal error: permanent
// ones are non-retryable with the provider's failure type.
func providerError(op string, err error) error {
	var pe *provider.PermanentError
	if errors.As(err, &pe) {
		return temporal.NewNonRetryableApplicationError(pe.Error(), pe.Type, nil)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// toResult flattens sets into one result.
func toResult(name string, sets []fx.RateSet, fetched time.Time) FetchRatesResult {
	out := FetchRatesResult{Provider: name, FetchedAt: fetched.UTC()}
	skipped := map[string]bool{}
	for i, set := range sets {
		if i == 0 {
			out.Base, out.PayloadSHA256 = set.Base, set.PayloadHash
		}
		if set.AsOf.After(out.AsOf) {
			out.AsOf = set.AsOf.UTC()
		}
		for _, sk := range set.Skipped {
			if !skipped[sk] {
				skipped[sk] = true
				out.Skipped = append(out.Skipped, sk)
			}
		}
	}
	for _, set := range sets {
		for _, r := range set.Rates {
			q := Quote{Quote: r.Quote, Rate: fx.Exact(r.Value)}
			if set.Base != out.Base {
				q.Base = set.Base
			}
			if !set.AsOf.Equal(out.AsOf) {
				q.AsOf = set.AsOf.UTC()
			}
			out.Rates = append(out.Rates, q)
		}
	}
	return out
}

// toSets groups a result back into one set per (base, as_of).
func toSets(in FetchRatesResult) ([]fx.RateSet, error) {
	var sets []fx.RateSet
	index := map[string]int{}
	for _, q := range in.Rates {
		v, err := decimal.NewFromString(q.Rate)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%s rate %q is not a decimal", q.Quote, q.Rate), provider.TypeInvalidPayload, nil)
		}
		base, asOf := in.Base, in.AsOf
		if q.Base != "" {
			base = q.Base
		}
		if !q.AsOf.IsZero() {
			asOf = q.AsOf
		}
		k := base + "|" + asOf.UTC().Format(time.RFC3339Nano)
		i, ok := index[k]
		if !ok {
			i = len(sets)
			index[k] = i
			sets = append(sets, fx.RateSet{Provider: in.Provider, Base: base, AsOf: asOf.UTC(), PayloadHash: in.PayloadSHA256})
		}
		sets[i].Rates = append(sets[i].Rates, fx.QuotedRate{Quote: q.Quote, Value: v})
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].AsOf.Before(sets[j].AsOf) })
	return sets, nil
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
	Inserted       int                    `json:"inserted"`
	AlreadyPresent int                    `json:"already_present"`
	Conflicts      []string               `json:"conflicts,omitempty"`
	Stored         []StoredRate           `json:"stored"`
	Quarantined    []flow.QuarantinedRate `json:"quarantined,omitempty"`
	// NotFinal counts the fetched rates not stored because their
	// publication time had not passed when they were fetched.
	NotFinal int `json:"not_final,omitempty"`
	// Lagging are other publishers' rows, stored before, that this
	// publication held (an issuer's rate they stray from).
	Lagging []flow.QuarantinedRate `json:"lagging,omitempty"`
}

// judge is the quality gate with the configured parameters, weighing the
// configured publishers only.
func (a *Activities) judge() store.Judge {
	names := make([]string, 0, len(a.Providers))
	for name := range a.Providers {
		names = append(names, name)
	}
	sort.Strings(names)
	return gate.Options{JumpLimit: a.JumpLimit, Consensus: a.Consensus, Providers: names, MaxAge: a.ReferenceMaxAge}.Judge()
}

// uncacheLagging rewrites the cached latest rates of each provider whose
// stored rows a publication held after the fact: they were cached when
// they were priced, and SetLatest never replaces a newer entry with the
// older row now in force. The held series reach the cache with
// CacheRates, as every hold does. A retry repeats the rewrite, which
// PostgreSQL's rows make the same.
func (a *Activities) uncacheLagging(ctx context.Context, lagging []store.Quarantine) error {
	if a.Cache == nil || len(lagging) == 0 {
		return nil
	}
	var providers []string
	for _, q := range lagging {
		if !slices.Contains(providers, q.Rate.Provider) {
			providers = append(providers, q.Rate.Provider)
		}
	}
	sort.Strings(providers)
	for _, p := range providers {
		rows, err := a.Rates.LatestServable(ctx, []string{p}, nil, time.Time{})
		if err != nil {
			return err
		}
		if _, err := a.Cache.ReplaceLatest(ctx, p, rows); err != nil {
			return err
		}
	}
	return nil
}

// InsertRates stores a publication, recording the workflow run that did
// it, and runs the quality gate on every new row in the same transaction.
// Rates whose publication time had not passed at the fetch (in.FetchedAt)
// are not stored, only counted (see finalOnly). A retry, or a later run
// that fetches the same publication, inserts nothing and gets back the
// rows already stored.
func (a *Activities) InsertRates(ctx context.Context, in FetchRatesResult) (InsertRatesResult, error) {
	sets, err := toSets(in)
	if err != nil {
		return InsertRatesResult{}, err
	}
	sets, notFinal := finalOnly(ctx, in.Provider, sets, in.FetchedAt, a.now())
	info := activity.GetInfo(ctx)
	res, err := a.Rates.InsertSets(ctx, sets, store.Origin{
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, FetchedAt: in.FetchedAt, Judge: a.judge(),
	})
	if err != nil {
		return InsertRatesResult{}, err
	}
	a.report(ctx, in.Provider, res)
	if a.Metrics != nil && notFinal > 0 {
		a.Metrics.NotFinal(in.Provider, notFinal)
	}
	if err := a.uncacheLagging(ctx, res.Lagging); err != nil {
		return InsertRatesResult{}, err
	}
	out := InsertRatesResult{Inserted: res.Inserted, AlreadyPresent: res.AlreadyPresent, Conflicts: res.Conflicts,
		Quarantined: quarantined(res.Quarantined), Lagging: quarantined(res.Lagging), NotFinal: notFinal}
	for _, r := range res.Stored {
		out.Stored = append(out.Stored, StoredRate{ID: r.ID, Quote: r.Quote, Rate: fx.Exact(r.Value), AsOf: r.AsOf, FetchedAt: r.FetchedAt})
	}
	return out, nil
}

func quarantined(qs []store.Quarantine) []flow.QuarantinedRate {
	var out []flow.QuarantinedRate
	for _, q := range qs {
		out = append(out, flow.QuarantinedRate{
			QuarantineID: q.ID, RateID: q.Rate.ID, Base: q.Rate.Base, Quote: q.Rate.Quote, Rate: fx.Exact(q.Rate.Value),
			Against: q.Against, ReferenceProvider: q.Reference.Provider, ReferenceRate: fx.Exact(q.ReferenceValue), Change: q.Change.String(),
		})
	}
	return out
}

// report logs and counts what an insert did.
func (a *Activities) report(ctx context.Context, name string, res store.InsertResult) {
	log := activity.GetLogger(ctx)
	if len(res.Conflicts) > 0 {
		log.Warn("provider revised published rates; history keeps the first values", "provider", name, "quotes", res.Conflicts)
	}
	for _, q := range res.Quarantined {
		log.Warn("rate quarantined by the quality gate; an operator must release or reject it",
			"provider", name, "pair", q.Rate.Base+"/"+q.Rate.Quote, "rate", fx.Exact(q.Rate.Value), "against", q.Against,
			"reference", fx.Exact(q.ReferenceValue), "change", q.Change.String(), "quarantine_id", q.ID)
	}
	for _, q := range res.Lagging {
		log.Warn("another publisher's stored rate is quarantined: it strays from the issuer's rate just stored; an operator must release or reject it",
			"provider", q.Rate.Provider, "pair", q.Rate.Base+"/"+q.Rate.Quote, "rate", fx.Exact(q.Rate.Value), "currency", q.Currency,
			"issuer", q.Reference.Provider, "issuer_value", q.ReferenceValue.String(), "value", q.Value.String(), "quarantine_id", q.ID)
	}
	if a.Metrics != nil {
		a.Metrics.Inserted(name, res.Inserted)
		a.Metrics.AlreadyPresent(name, res.AlreadyPresent)
		a.Metrics.Quarantined(name, len(res.Quarantined))
		// Rows of other publishers held after the fact count as theirs.
		for _, q := range res.Lagging {
			a.Metrics.Quarantined(q.Rate.Provider, 1)
		}
	}
}

// CacheRatesInput names the provider whose latest rates CacheRates
// publishes. Base and Rates are kept for histories recorded before
// CacheRates read them from PostgreSQL; they are ignored.
type CacheRatesInput struct {
	Provider string       `json:"provider"`
	Base     string       `json:"base,omitempty"`
	Rates    []StoredRate `json:"rates,omitempty"`
}

// CacheRatesResult reports how many cached series the workflow run
// changed, including those an earlier attempt changed before it died.
type CacheRatesResult struct {
	Updated int `json:"updated"`
}

// CacheRates makes PostgreSQL's newest released rates of the provider the
// cached latest where they are newer than what Redis holds. Reading them
// from PostgreSQL rather than taking the rows just inserted is what keeps
// the cache from going back in time (an older day ingested into an
// emptied Redis) and keeps quarantined rates out of it. Writing as the
// workflow run lets a retry count what a killed attempt wrote.
func (a *Activities) CacheRates(ctx context.Context, in CacheRatesInput) (CacheRatesResult, error) {
	rows, err := a.Rates.LatestServable(ctx, []string{in.Provider}, nil, time.Time{})
	if err != nil {
		return CacheRatesResult{}, err
	}
	n, err := a.Cache.SetLatest(ctx, in.Provider, rows, activity.GetInfo(ctx).WorkflowExecution.RunID)
	if err != nil {
		return CacheRatesResult{}, err
	}
	// The series the gate holds are published with the rates, so every
	// API stops pricing a held series as soon as its newer rates would
	// have been served (the database's check at conversion refuses it
	// meanwhile).
	readAt := time.Now()
	held, err := a.Quality.HeldSeries(ctx)
	if err != nil {
		return CacheRatesResult{}, err
	}
	if err := a.Cache.SetHeld(ctx, held, readAt); err != nil {
		return CacheRatesResult{}, err
	}
	return CacheRatesResult{Updated: n}, nil
}
