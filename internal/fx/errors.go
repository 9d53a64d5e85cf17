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
)
