package httpapi

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"ces/internal/fx"
)

// Error codes of the error contract.
const (
	CodeInvalidCurrency  = "invalid_currency"
	CodeInvalidParameter = "invalid_parameter"
	CodeRateNotFound     = "rate_not_found"
	CodeNoRatesYet       = "no_rates_yet"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeInternal         = "internal_error"
	CodeUnavailable      = "service_unavailable"
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
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
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
	switch {
	case errors.Is(err, fx.ErrInvalidCurrency):
		return &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidCurrency, Message: err.Error()}
	case errors.Is(err, fx.ErrRateNotFound):
		return &apiError{Status: fiber.StatusNotFound, Code: CodeRateNotFound, Message: err.Error()}
	case errors.Is(err, fx.ErrNoRates):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: CodeNoRatesYet, Message: "no rates have been ingested yet"}
	}
	return nil
}

func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		ae := classify(err)
		if ae == nil {
			// Not the client's doing: say little, log everything.
			log.ErrorContext(c.UserContext(), "request failed", "request_id", requestID(c), "path", c.Path(), "error", err.Error())
			ae = &apiError{Status: fiber.StatusInternalServerError, Code: CodeInternal, Message: "internal error; quote request id " + requestID(c)}
		}
		if ae.Status == fiber.StatusServiceUnavailable {
			c.Set(fiber.HeaderRetryAfter, "30")
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(ae.Status).JSON(errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Field: ae.Field}})
	}
}
