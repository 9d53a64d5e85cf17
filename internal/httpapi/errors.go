package httpapi

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"ces/internal/fx"
)

// Error codes of the error contract.
const (
	CodeInvalidCurrency      = "invalid_currency"
	CodeInvalidParameter     = "invalid_parameter"
	CodeRateNotFound         = "rate_not_found"
	CodeNoRatesYet           = "no_rates_yet"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeBodyTooLarge         = "body_too_large"
	CodeInternal             = "internal_error"
	CodeInvalidAmount        = "invalid_amount"
	CodeAmountTooSmall       = "amount_too_small"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeRateLimited          = "rate_limited"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeQuoteNotFound        = "quote_not_found"
	CodeQuoteExpired         = "quote_expired"
	CodeQuoteUsed            = "quote_used"
	CodeMalformedBody        = "malformed_body"
	CodeKeyReused            = "idempotency_key_reused"
	CodeKeyInUse             = "idempotency_key_in_use"
	CodeRateUnavailable      = "rate_unavailable"
	CodeRateUnderReview      = "rate_under_review"
	CodeDatabaseDown         = "database_unavailable"
	CodeConversionMissing    = "conversion_not_found"
	CodePairSuspended        = "pair_suspended"
)

// apiError is an error with its place in the contract: status, code,
// message and, when one input is at fault, the field.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, field, msg string) error {
	return &apiError{Status: fiber.StatusBadRequest, Code: code, Field: field, Message: msg}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// classify maps any error to its place in the contract. It is the one
// place where domain errors become HTTP statuses.
func classify(err error) *apiError {
	if ae, ok := err.(*apiError); ok { // most refusals of bad input
		return ae
	}
	// errors.AsType, not errors.As: As's target escapes, an allocation per
	// refusal that an answer does not pay.
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae
	}
	if fe, ok := errors.AsType[*fiber.Error](err); ok {
		switch fe.Code {
		case fiber.StatusNotFound:
			return &apiError{Status: fe.Code, Code: CodeNotFound, Message: "no such endpoint"}
		case fiber.StatusMethodNotAllowed:
			return &apiError{Status: fe.Code, Code: CodeMethodNotAllowed, Message: "method not allowed on this endpoint"}
		case fiber.StatusRequestEntityTooLarge:
			return &apiError{Status: fe.Code, Code: CodeBodyTooLarge, Message: "request body is larger than the limit"}
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return &apiError{Status: fe.Code, Code: CodeInvalidParameter, Message: fe.Message}
		}
	}
	var field string
	if fe, ok := errors.AsType[interface {
		error
		Field() string
	}](err); ok {
		field = fe.Field()
	}
	switch {
	case errors.Is(err, fx.ErrInvalidCurrency):
		return &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidCurrency, Field: field, Message: err.Error()}
	case errors.Is(err, fx.ErrUnauthorized):
		return &apiError{Status: fiber.StatusUnauthorized, Code: CodeUnauthorized, Field: "Authorization",
			Message: "a valid API key is required: send Authorization: Bearer <key>"}
	case errors.Is(err, fx.ErrQuoteNotFound):
		return &apiError{Status: fiber.StatusNotFound, Code: CodeQuoteNotFound, Field: field, Message: err.Error()}
	case errors.Is(err, fx.ErrQuoteExpired):
		return &apiError{Status: fiber.StatusConflict, Code: CodeQuoteExpired, Field: field, Message: err.Error()}
	case errors.Is(err, fx.ErrQuoteUsed):
		return &apiError{Status: fiber.StatusConflict, Code: CodeQuoteUsed, Field: "quote_id",
			Message: "this quote was already converted; ask for a new one (replaying the same Idempotency-Key returns the receipt)"}
	case errors.Is(err, fx.ErrRateLimited):
		return &apiError{Status: fiber.StatusTooManyRequests, Code: CodeRateLimited, Message: err.Error()}
	case errors.Is(err, fx.ErrForbidden):
		return &apiError{Status: fiber.StatusForbidden, Code: CodeForbidden, Field: "Authorization", Message: err.Error()}
	case errors.Is(err, fx.ErrAmountTooSmall):
		return &apiError{Status: fiber.StatusBadRequest, Code: CodeAmountTooSmall, Field: field, Message: err.Error()}
	case errors.Is(err, fx.ErrInvalidAmount):
		return &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidAmount, Field: field, Message: err.Error()}
	case errors.Is(err, fx.ErrUnknownProvider):
		return &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidParameter, Field: "provider", Message: err.Error()}
	case errors.Is(err, fx.ErrPairSuspended):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodePairSuspended, Message: err.Error()}
	case errors.Is(err, fx.ErrRateNotFound):
		return &apiError{Status: fiber.StatusNotFound, Code: CodeRateNotFound, Message: err.Error()}
	case errors.Is(err, fx.ErrNoRates):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeNoRatesYet, Message: "no rates have been ingested yet"}
	case errors.Is(err, fx.ErrIdempotencyKeyReused):
		return &apiError{Status: fiber.StatusUnprocessableEntity, Code: CodeKeyReused, Field: "Idempotency-Key",
			Message: "this Idempotency-Key was used with a different request; use a new key for a new conversion"}
	case errors.Is(err, fx.ErrIdempotencyKeyInUse):
		return &apiError{Status: fiber.StatusConflict, Code: CodeKeyInUse, Field: "Idempotency-Key",
			Message: "a request with this Idempotency-Key is still being processed; retry shortly"}
	case errors.Is(err, fx.ErrRateUnderReview):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeRateUnderReview, Message: err.Error()}
	case errors.Is(err, fx.ErrRateMismatch):
		// A cache that disagrees with PostgreSQL is repaired from it; the
		// retry (same Idempotency-Key) is priced from the repaired copy.
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeRateUnavailable,
			Message: "the cached rate disagreed with its stored row and was refused, and the cache is being rewritten from the rows; nothing was written: retry (a conversion with the same Idempotency-Key)"}
	case errors.Is(err, fx.ErrRateUnavailable):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeRateUnavailable, Message: err.Error()}
	case errors.Is(err, fx.ErrDatabaseUnavailable):
		// The cause is logged, not shown: it names hosts and drivers.
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeDatabaseDown, Message: "the database is unavailable; retry later (a conversion: with the same Idempotency-Key, under which it is never recorded twice)"}
	case errors.Is(err, fx.ErrConversionNotFound):
		return &apiError{Status: fiber.StatusNotFound, Code: CodeConversionMissing, Message: err.Error()}
	}
	return nil
}

func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		ae := classify(err)
		if ae != nil && ae.Code == CodeDatabaseDown {
			log.ErrorContext(c.UserContext(), "database unavailable", "path", c.Path(), "error", err.Error())
		}
		if ae == nil {
			// Not the client's doing: say little, log everything.
			log.ErrorContext(c.UserContext(), "request failed", "path", c.Path(), "error", err.Error())
			ae = &apiError{Status: fiber.StatusInternalServerError, Code: CodeInternal, Message: "internal error; quote request id " + requestID(c)}
		}
		if ae.Status == fiber.StatusServiceUnavailable {
			c.Set(fiber.HeaderRetryAfter, "30")
		}
		if ae.Status == fiber.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="ces"`)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		// The body as c.JSON would write it, encoded without reflection
		// into a buffer on the stack, then copied into the response's.
		var buf [512]byte
		c.Status(ae.Status)
		c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
		c.Response().SetBody(appendErrorBody(buf[:0], ae))
		return nil
	}
}
