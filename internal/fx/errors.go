package fx

import "errors"

// Domain errors. The HTTP layer maps each of them to a status and an error
// code in one place; everything else wraps them with context.
var (
	// ErrInvalidCurrency is returned for a code that is not a known ISO 4217 currency.
	ErrInvalidCurrency = errors.New("invalid currency")
	// ErrRateNotFound is returned when the provider does not quote a pair.
	ErrRateNotFound = errors.New("rate not found")
	// ErrNoRates is returned when nothing has been ingested yet.
	ErrNoRates = errors.New("no rates ingested yet")
	// ErrInvalidAmount is returned for an amount that cannot be converted.
	ErrInvalidAmount = errors.New("invalid amount")
	// ErrInvalidRate is returned for a rate that is not a positive, sane number.
	ErrInvalidRate = errors.New("invalid rate")
	// ErrUnknownProvider is returned when a client pins a provider CES does not serve.
	ErrUnknownProvider = errors.New("unknown provider")
	// ErrPairSuspended is returned for a pair an operator took out of pricing.
	ErrPairSuspended = errors.New("pair suspended")
)

// Conversion errors.
var (
	// ErrAmountTooSmall is returned when a conversion would pay out less
	// than one minor unit of the target currency.
	ErrAmountTooSmall = errors.New("amount too small")
	// ErrRateUnavailable is returned when no rate is fresh enough to convert with.
	ErrRateUnavailable = errors.New("rate unavailable")
	// ErrRateUnderReview is returned when only rates whose series has a
	// newer publication held by the quality gate could price a conversion.
	ErrRateUnderReview = errors.New("rate under review")
	// ErrRateMismatch is returned when a rate a conversion was priced from
	// (read from the cache) disagrees with the stored row it names.
	ErrRateMismatch = errors.New("rate disagrees with its stored row")
	// ErrIdempotencyKeyReused is returned when a key comes back with another request.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyKeyInUse is returned while the first request with a key is in flight.
	ErrIdempotencyKeyInUse = errors.New("idempotency key in use by a request in flight")
	// ErrQuoteNotFound is returned for an unknown quote, or another client's.
	ErrQuoteNotFound = errors.New("quote not found")
	// ErrQuoteExpired is returned for a quote used after its expires_at.
	ErrQuoteExpired = errors.New("quote expired")
	// ErrQuoteUsed is returned for a quote that already has its conversion.
	ErrQuoteUsed = errors.New("quote used")
	// ErrConversionNotFound is returned for an unknown receipt id.
	ErrConversionNotFound = errors.New("conversion not found")
	// ErrDatabaseUnavailable is returned when the system of record cannot be reached.
	ErrDatabaseUnavailable = errors.New("database unavailable")
)

// Client errors.
var (
	// ErrUnauthorized is returned for a missing, malformed, unknown or
	// revoked API key; it never says which.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden is returned for a key without the scope an endpoint needs.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited is returned for a key over its quota.
	ErrRateLimited = errors.New("rate limited")
)
