// Package conversions prices and records conversions: it validates the
// request, takes the latest rate, applies the margin and rounding of the
// fx package, and records the receipt in the audit log in one transaction.
package conversions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/fx"
	"ces/internal/rates"
)

// FieldError is a client error caused by one input field.
type FieldError struct {
	Name string
	Err  error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Field names the input at fault.
func (e *FieldError) Field() string { return e.Name }

// Request is a conversion as the client asked for it.
type Request struct {
	// Amount is the exact decimal text the client sent.
	Amount         string
	From, To       string
	IdempotencyKey string
	RequestID      string
	ClientAddress  string
	// APIKeyID is the client's key: it scopes IdempotencyKey and is
	// recorded in the receipt.
	APIKeyID string
	// QuoteID, when set, converts that quote (of this client) at its
	// figures instead of Amount, From and To at the current rate.
	QuoteID string
}

// Rates prices a pair at the current rate and repairs the cache of a
// provider whose cached rates PostgreSQL contradicted (*rates.Service).
type Rates interface {
	Latest(ctx context.Context, from, to, provider string) (rates.Result, error)
	Repair(ctx context.Context, provider string) error
}

// Store records receipts and quotes and finds them again
// (*store.Conversions). Each write checks the receipt against the rate
// rows it names, in the same transaction.
type Store interface {
	RecordConversion(ctx context.Context, r fx.Receipt) (fx.Receipt, bool, error)
	RecordNewConversion(ctx context.Context, r fx.Receipt) (fx.Receipt, bool, error)
	ConversionByKey(ctx context.Context, apiKeyID, key string) (fx.Receipt, error)
	ClientConversionByID(ctx context.Context, apiKeyID, id string) (fx.Receipt, error)
	InsertQuote(ctx context.Context, q fx.LockedQuote) error
	ClientQuote(ctx context.Context, apiKeyID, id string) (fx.LockedQuote, error)
}

// Service prices and records conversions.
type Service struct {
	rates  Rates
	store  Store
	margin decimal.Decimal
	maxAge func(provider string) time.Duration
	// staleAfter judges each leg's freshness at the instant of pricing
	// (nil: the rate lookup's own judgement alone).
	staleAfter func(provider string) time.Duration
	now        func() time.Time
	// slots bounds the conversions at work at once (nil: unbounded).
	slots    chan struct{}
	quoteTTL time.Duration
}

// Options configure a Service.
type Options struct {
	Margin decimal.Decimal
	// MaxRateAge is the oldest rate of each provider a conversion may be
	// priced from; every leg must be younger than its provider's limit.
	MaxRateAge func(provider string) time.Duration
	// StaleAfter is how old each provider's rates may grow before they
	// are stale (config.StaleAfter, as the rate lookups use): a receipt
	// or quote priced from an older leg, within MaxRateAge, says stale.
	StaleAfter func(provider string) time.Duration
	Now        func() time.Time
	// MaxConcurrent bounds the conversions at work at once (0: no bound).
	// Set below the database pool's size, it keeps conversions stuck on a
	// locked table from taking every connection that lookups and
	// readiness checks need; a conversion that waits for a slot past its
	// deadline answers 503 having written nothing.
	MaxConcurrent int
	// QuoteTTL is how long a quote holds its price (default 30 s).
	QuoteTTL time.Duration
}

// New returns a Service.
func New(r Rates, st Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.QuoteTTL <= 0 {
		o.QuoteTTL = DefaultQuoteTTL
	}
	svc := &Service{rates: r, store: st, margin: o.Margin, maxAge: o.MaxRateAge, staleAfter: o.StaleAfter, now: o.Now, quoteTTL: o.QuoteTTL}
	if o.MaxConcurrent > 0 {
		svc.slots = make(chan struct{}, o.MaxConcurrent)
	}
	return svc
}

func currencyField(name, code string) (fx.Currency, error) {
	c, err := fx.ParseCurrency(code)
	if err != nil {
		return fx.Currency{}, &FieldError{Name: name, Err: err}
	}
	if c.Withdrawn {
		return fx.Currency{}, &FieldError{Name: name, Err: fmt.Errorf("%w: %s is withdrawn from ISO 4217 and not offered for conversion", fx.ErrInvalidCurrency, c.Code)}
	}
	if !c.HasMinorUnits() {
		return fx.Currency{}, &FieldError{Name: name, Err: fmt.Errorf("%w: %s has no minor unit in ISO 4217 and cannot be converted", fx.ErrInvalidCurrency, c.Code)}
	}
	return c, nil
}

// Validate checks a request without touching any store.
func Validate(req Request) (amount decimal.Decimal, from, to fx.Currency, err error) {
	if from, err = currencyField("from_currency", req.From); err != nil {
		return
	}
	if to, err = currencyField("to_currency", req.To); err != nil {
		return
	}
	if from.Code == to.Code {
		err = &FieldError{Name: "to_currency", Err: fmt.Errorf("%w: to_currency must differ from from_currency", fx.ErrInvalidCurrency)}
		return
	}
	if amount, err = fx.ParseAmount(req.Amount, from); err != nil {
		err = &FieldError{Name: "amount", Err: err}
	}
	return
}

// Convert prices and records one conversion. With an idempotency key that
// was used before it returns the original receipt (replayed true) for the
// same request and fx.ErrIdempotencyKeyReused for another. Whatever fails,
// nothing is written.
func (s *Service) Convert(ctx context.Context, req Request) (receipt fx.Receipt, replayed bool, err error) {
	var reqHash string
	var price func(ctx context.Context, now time.Time) (fx.Receipt, error)
	if req.QuoteID != "" {
		if !ValidID(req.QuoteID) {
			return fx.Receipt{}, false, &FieldError{Name: "quote_id", Err: fmt.Errorf("%w: %q is not a quote id", fx.ErrQuoteNotFound, req.QuoteID)}
		}
		// One spelling per quote, so that a replay in another case is
		// the same request (the receipt takes the id from the stored quote).
		req.QuoteID = strings.ToLower(req.QuoteID)
		reqHash = fx.QuoteRequestHash(req.QuoteID)
		price = func(ctx context.Context, now time.Time) (fx.Receipt, error) { return s.priceQuoted(ctx, now, req) }
	} else {
		amount, from, to, err := Validate(req)
		if err != nil {
			return fx.Receipt{}, false, err
		}
		reqHash = fx.RequestHash(amount, from.Code, to.Code)
		price = func(ctx context.Context, now time.Time) (fx.Receipt, error) {
			return s.priceNow(ctx, now, amount, from, to)
		}
	}
	generated := req.IdempotencyKey == ""
	if generated {
		// A conversion whose answer is lost must still be findable: CES
		// gives it a key, returned to the client, under which a resubmit
		// replays the receipt. Being new, it needs no lock or lookup.
		req.IdempotencyKey = GeneratedKeyPrefix + uuid.NewString()
	}
	defer func() {
		// Whatever kept the database from answering (a busy slot, a rate
		// read, the write), the key goes back: a retry under it converts
		// at most once.
		if errors.Is(err, fx.ErrDatabaseUnavailable) || errors.Is(err, fx.ErrRateMismatch) || errors.Is(err, fx.ErrRateUnderReview) {
			receipt.IdempotencyKey = req.IdempotencyKey
		}
	}()
	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-ctx.Done():
			return fx.Receipt{}, false, unavailable(fmt.Errorf("conversions: every slot is busy: %w", ctx.Err()))
		}
	}
	if !generated {
		prev, err := s.store.ConversionByKey(ctx, req.APIKeyID, req.IdempotencyKey)
		switch {
		case err == nil:
			if prev.RequestSHA256 != reqHash {
				return fx.Receipt{}, false, fx.ErrIdempotencyKeyReused
			}
			return prev, true, nil
		case !errors.Is(err, fx.ErrConversionNotFound):
			return fx.Receipt{}, false, unavailable(err)
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r, err := price(ctx, now)
	if err != nil {
		return fx.Receipt{}, false, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fx.Receipt{}, false, fmt.Errorf("conversions: new id: %w", err)
	}
	r.ID, r.CreatedAt, r.RequestID, r.APIKeyID = id.String(), now, req.RequestID, req.APIKeyID
	r.IdempotencyKey, r.RequestSHA256, r.ClientAddress = req.IdempotencyKey, reqHash, req.ClientAddress
	r.Hash = audit.ReceiptHash(r)
	record := s.store.RecordConversion
	if generated {
		record = s.store.RecordNewConversion
	}
	wctx, cancel := writeContext(ctx)
	defer cancel()
	stored, replayed, err := record(wctx, r)
	switch {
	case errors.Is(err, fx.ErrIdempotencyKeyInUse), errors.Is(err, fx.ErrIdempotencyKeyReused), errors.Is(err, fx.ErrUnauthorized),
		errors.Is(err, fx.ErrQuoteUsed), errors.Is(err, fx.ErrRateUnderReview):
		return fx.Receipt{}, false, err
	case errors.Is(err, fx.ErrQuoteExpired):
		return fx.Receipt{}, false, &FieldError{Name: "quote_id", Err: err}
	case errors.Is(err, fx.ErrRateMismatch):
		// The cache said something PostgreSQL's rows do not: nothing was
		// written, and the cache is rewritten from PostgreSQL so that the
		// client's retry is priced from the rows themselves.
		s.repair(ctx, r.Legs)
		return fx.Receipt{}, false, err
	case err != nil:
		// The write may have committed although its answer was lost (the
		// deadline fired on COMMIT): look for this very row before saying
		// it failed. The key goes back either way, so a retry replays.
		if found, ok := s.committed(ctx, r); ok {
			return found, false, nil
		}
		return fx.Receipt{}, false, unavailable(err)
	}
	return stored, replayed, nil
}

// maxLookupReserve caps the time a write leaves before the request's
// deadline for committed to look for its row.
const maxLookupReserve = 500 * time.Millisecond

// writeContext ends a conversion's write a little before the request's
// deadline (a quarter of what is left, at most maxLookupReserve), so that
// a write cut off can still be looked up and the client answered within
// REQUEST_TIMEOUT.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-min(maxLookupReserve, time.Until(dl)/4)))
}

// committedMinimum is the least time the lookup committed makes is given,
// even when the request's deadline has passed.
const committedMinimum = 250 * time.Millisecond

// committed looks for r's row by its idempotency key: true when that row
// is r (same id). It runs on a context of its own, with what is left of
// the request's deadline but never less than committedMinimum (2 s
// without a deadline): a COMMIT that outlived the deadline (see
// store.commitContext) leaves it passed, and asking on it would answer
// 503 for a conversion that committed, while a write that never got its
// lock must still be answered close to REQUEST_TIMEOUT.
func (s *Service) committed(ctx context.Context, r fx.Receipt) (fx.Receipt, bool) {
	if r.IdempotencyKey == "" {
		return fx.Receipt{}, false
	}
	budget := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		budget = max(time.Until(dl), committedMinimum)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	found, err := s.store.ConversionByKey(ctx, r.APIKeyID, r.IdempotencyKey)
	if err != nil || found.ID != r.ID {
		return fx.Receipt{}, false
	}
	return found, true
}

// Get returns a receipt the client apiKeyID made; another client's is
// fx.ErrConversionNotFound.
func (s *Service) Get(ctx context.Context, apiKeyID, id string) (fx.Receipt, error) {
	if !ValidID(id) {
		return fx.Receipt{}, fmt.Errorf("%w: %q is not a conversion id", fx.ErrConversionNotFound, id)
	}
	r, err := s.store.ClientConversionByID(ctx, apiKeyID, id)
	if err != nil && !errors.Is(err, fx.ErrConversionNotFound) {
		return fx.Receipt{}, unavailable(err)
	}
	return r, err
}

// repairTimeout bounds the cache repair after a mismatch.
const repairTimeout = 3 * time.Second

// repair rewrites, from PostgreSQL, the cached latest rates of the
// providers of legs, in the background: the request that found the
// mismatch is answered at once.
func (s *Service) repair(ctx context.Context, legs []fx.Rate) {
	provs := map[string]bool{}
	for _, l := range legs {
		provs[l.Provider] = true
	}
	for p := range provs {
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairTimeout)
			defer cancel()
			if err := s.rates.Repair(ctx, p); err != nil {
				slog.WarnContext(ctx, "conversions: repairing the rate cache from PostgreSQL failed", "provider", p, "error", err.Error())
			}
		}()
	}
}

func unavailable(err error) error {
	return fmt.Errorf("%w: %v", fx.ErrDatabaseUnavailable, err)
}

// GeneratedKeyPrefix starts the idempotency keys CES makes for requests
// sent without one.
const GeneratedKeyPrefix = "ces-"

// ValidID reports whether id is a conversion id as CES writes them: the
// canonical 36-character UUID text. uuid.Parse also takes the urn:uuid:,
// braced and 32-digit forms, which PostgreSQL refuses as uuid, so a
// client's typo became a database error instead of a 404.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil
}

// DefaultQuoteTTL is how long a quote holds its price unless configured.
const DefaultQuoteTTL = 30 * time.Second

// priceNow prices amount from→to at the current rate: the figures of a
// receipt (or a quote) before it is given an id.
func (s *Service) priceNow(ctx context.Context, now time.Time, amount decimal.Decimal, from, to fx.Currency) (fx.Receipt, error) {
	quote, err := s.rates.Latest(ctx, from.Code, to.Code, "")
	switch {
	case errors.Is(err, fx.ErrRateNotFound), errors.Is(err, fx.ErrPairSuspended), errors.Is(err, fx.ErrInvalidCurrency):
		return fx.Receipt{}, err
	case errors.Is(err, fx.ErrNoRates):
		return fx.Receipt{}, fmt.Errorf("%w: no rates have been ingested yet", fx.ErrRateUnavailable)
	case err != nil:
		return fx.Receipt{}, unavailable(err)
	}
	for _, l := range quote.Legs {
		if limit := s.maxAge(l.Provider); now.Sub(l.AsOf) > limit {
			return fx.Receipt{}, fmt.Errorf("%w: the newest %s/%s rate uses %s's %s/%s from %s, older than the %s a conversion may use (CONVERT_MAX_RATE_AGE)",
				fx.ErrRateUnavailable, from.Code, to.Code, l.Provider, l.Base, l.Quote, l.AsOf.Format(time.RFC3339), limit)
		}
	}
	// The lookup judged freshness when its books were built; a leg may
	// have aged past its bound since. Either way the price is stale.
	stale := quote.Stale
	for _, l := range quote.Legs {
		if s.staleAfter != nil && now.Sub(l.AsOf) > s.staleAfter(l.Provider) {
			stale = true
		}
	}
	if quote.UnderReview {
		// Only a series whose newest publication the quality gate holds
		// can price the pair: converting at the rate before it could pay
		// out what a devaluation already took away.
		return fx.Receipt{}, fmt.Errorf("%w: every source that prices %s/%s has a newer publication held by the quality gate (%s); conversions resume when an operator releases or rejects it",
			fx.ErrRateUnderReview, from.Code, to.Code, quote.Provider)
	}
	conv, err := fx.Convert(amount, quote.Value, s.margin, to)
	if err != nil {
		return fx.Receipt{}, &FieldError{Name: "to_currency", Err: err}
	}
	if err := fx.CheckPayout(amount, conv.AppliedRate, from, to); err != nil {
		return fx.Receipt{}, &FieldError{Name: "amount", Err: err}
	}
	return fx.Receipt{
		Pricing: fx.Pricing{
			Amount: amount, From: from.Code, To: to.Code,
			MidRate: conv.MidRate, Margin: conv.Margin, AppliedRate: conv.AppliedRate, ConvertedAmount: conv.ConvertedAmount,
			Rounding: fx.Rounding, MinorUnits: to.MinorUnits, RatePrecision: fx.DerivedSignificantDigits,
			Provider: quote.Provider, Rule: quote.Rule, AsOf: quote.AsOf.UTC(), Legs: quote.Legs, Stale: fx.Flag(stale),
		},
	}, nil
}

// priceQuoted takes the figures of the client's quote, while it holds.
func (s *Service) priceQuoted(ctx context.Context, now time.Time, req Request) (fx.Receipt, error) {
	q, err := s.store.ClientQuote(ctx, req.APIKeyID, req.QuoteID)
	switch {
	case errors.Is(err, fx.ErrQuoteNotFound):
		return fx.Receipt{}, &FieldError{Name: "quote_id", Err: err}
	case err != nil:
		return fx.Receipt{}, unavailable(err)
	}
	// Whether the quote still holds is decided by the database's clock,
	// in the transaction that records the conversion (store.checkPricing),
	// so replicas whose clocks differ agree.
	return fx.Receipt{Pricing: q.Pricing, QuoteID: q.ID}, nil
}

// Quote prices a conversion and holds the price for the client for
// QuoteTTL: a conversion naming the quote executes at it, once.
func (s *Service) Quote(ctx context.Context, req Request) (fx.LockedQuote, error) {
	amount, from, to, err := Validate(req)
	if err != nil {
		return fx.LockedQuote{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r, err := s.priceNow(ctx, now, amount, from, to)
	if err != nil {
		return fx.LockedQuote{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fx.LockedQuote{}, fmt.Errorf("conversions: new quote id: %w", err)
	}
	q := fx.LockedQuote{
		ID: id.String(), APIKeyID: req.APIKeyID, CreatedAt: now, ExpiresAt: now.Add(s.quoteTTL).Truncate(time.Microsecond), // as stored
		Pricing: r.Pricing,
	}
	if err := s.store.InsertQuote(ctx, q); err != nil {
		if errors.Is(err, fx.ErrUnauthorized) || errors.Is(err, fx.ErrRateUnderReview) {
			return fx.LockedQuote{}, err
		}
		if errors.Is(err, fx.ErrRateMismatch) {
			s.repair(ctx, q.Legs)
			return fx.LockedQuote{}, err
		}
		return fx.LockedQuote{}, unavailable(err)
	}
	return q, nil
}
