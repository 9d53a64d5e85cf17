package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ces/internal/conversions"
	"ces/internal/fx"
)

// HeaderIdempotencyKey names the header that makes a conversion safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

func malformed(field, format string, args ...any) error {
	return &apiError{Status: fiber.StatusBadRequest, Code: CodeMalformedBody, Field: field, Message: fmt.Sprintf(format, args...)}
}

// parseConvertBody reads {"amount", "from_currency", "to_currency"}
// strictly: an object, no unknown or repeated keys, no trailing data.
// amount may be a string or a JSON number; either way its text is kept
// exactly, never passed through float64.
func parseConvertBody(body []byte) (amount, from, to string, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", "", malformed("", "the body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", "", "", malformed("", "the body is not valid JSON")
		}
		key, _ := kt.(string)
		if seen[key] {
			return "", "", "", malformed(key, "%s appears more than once", key)
		}
		seen[key] = true
		vt, err := dec.Token()
		if err != nil {
			return "", "", "", malformed(key, "the body is not valid JSON")
		}
		if d, ok := vt.(json.Delim); ok && (d == '{' || d == '[') {
			return "", "", "", malformed(key, "%s must be a string", key)
		}
		switch key {
		case "amount":
			switch v := vt.(type) {
			case string:
				amount = v
			case json.Number:
				amount = v.String()
			default:
				return "", "", "", malformed(key, "amount must be a decimal string such as \"500.00\" (or a JSON number)")
			}
		case "from_currency", "to_currency":
			s, ok := vt.(string)
			if !ok {
				return "", "", "", malformed(key, "%s must be a string such as \"USD\"", key)
			}
			if key == "from_currency" {
				from = s
			} else {
				to = s
			}
		default:
			return "", "", "", malformed(key, "unknown field %q; expected amount, from_currency, to_currency", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return "", "", "", malformed("", "the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", "", "", malformed("", "unexpected data after the JSON object")
	}
	for _, k := range []string{"amount", "from_currency", "to_currency"} {
		if !seen[k] {
			return "", "", "", malformed(k, "%s is required", k)
		}
	}
	return amount, from, to, nil
}

func validIdempotencyKey(k string) bool {
	if len(k) < 1 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// receiptJSON is the public form of a conversion.
type receiptJSON struct {
	ID              string    `json:"id"`
	CreatedAt       string    `json:"created_at"`
	Amount          string    `json:"amount"`
	FromCurrency    string    `json:"from_currency"`
	ToCurrency      string    `json:"to_currency"`
	MidRate         string    `json:"mid_rate"`
	Margin          string    `json:"margin"`
	AppliedRate     string    `json:"applied_rate"`
	ConvertedAmount string    `json:"converted_amount"`
	Rounding        string    `json:"rounding"`
	Provider        string    `json:"provider"`
	Rule            string    `json:"rule,omitempty"`
	AsOf            string    `json:"as_of"`
	Legs            []legJSON `json:"legs"`
	Hash            string    `json:"hash"`
}

func toReceiptJSON(r fx.Receipt) receiptJSON {
	return receiptJSON{
		ID: r.ID, CreatedAt: r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		Amount: fx.FormatAmount(r.From, r.Amount), FromCurrency: r.From, ToCurrency: r.To,
		MidRate: fx.Exact(r.MidRate), Margin: fx.Exact(r.Margin), AppliedRate: r.AppliedRate.String(),
		ConvertedAmount: fx.FormatAmount(r.To, r.ConvertedAmount), Rounding: r.Rounding, Provider: r.Provider, Rule: r.Rule,
		AsOf: rfc3339(r.AsOf), Legs: legsJSON(r.Legs), Hash: r.Hash,
	}
}

// convert serves POST /api/v1/convert.
func (h *handlers) convert(c *fiber.Ctx) (err error) {
	if h.d.Metrics != nil {
		defer func() {
			outcome := "created"
			switch {
			case err != nil:
				outcome = CodeInternal
				if ae := classify(err); ae != nil {
					outcome = ae.Code
				}
			case c.Response().StatusCode() == fiber.StatusOK:
				outcome = "replayed"
			}
			h.d.Metrics.Conversion(outcome)
		}()
	}
	key := strings.Clone(c.Get(HeaderIdempotencyKey))
	if c.Request().Header.Peek(HeaderIdempotencyKey) != nil && !validIdempotencyKey(key) {
		return invalid(CodeInvalidParameter, HeaderIdempotencyKey, "Idempotency-Key must be 1 to 255 printable ASCII characters")
	}
	amount, from, to, err := parseConvertBody(c.Body())
	if err != nil {
		return err
	}
	r, replayed, err := h.d.Conversions.Convert(c.UserContext(), conversions.Request{
		Amount: amount, From: from, To: to, IdempotencyKey: key,
		RequestID: requestID(c), ClientAddress: strings.Clone(c.IP()), APIKeyID: client(c).ID,
	})
	if r.IdempotencyKey != "" {
		// The client's key, or the one CES made for a request without
		// one, on success and on a failed write alike: a client that logs
		// it resubmits with it and cannot convert twice.
		c.Set(HeaderIdempotencyKey, r.IdempotencyKey)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/conversions/"+r.ID)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if replayed {
		c.Set("Idempotent-Replayed", "true")
		return c.Status(fiber.StatusOK).JSON(toReceiptJSON(r))
	}
	return c.Status(fiber.StatusCreated).JSON(toReceiptJSON(r))
}

// conversion serves GET /api/v1/conversions/{id}.
func (h *handlers) conversion(c *fiber.Ctx) error {
	r, err := h.d.Conversions.Get(c.UserContext(), client(c).ID, strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	// A receipt never changes: cache it as long as the client likes.
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	return c.JSON(toReceiptJSON(r))
}
