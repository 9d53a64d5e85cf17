package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"ces/internal/clientaddr"
	"ces/internal/conversions"
	"ces/internal/fx"
)

// HeaderIdempotencyKey names the header that makes a conversion safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

func malformed(field, format string, args ...any) error {
	return &apiError{Status: fiber.StatusBadRequest, Code: CodeMalformedBody, Field: field, Message: fmt.Sprintf(format, args...)}
}

// convertBody is a conversion or quote request: an amount and two
// currencies, or (a conversion only) the id of a quote.
type convertBody struct {
	Amount, From, To, QuoteID string
}

// parseConvertBody reads {"amount", "from_currency", "to_currency"}, or
// with quoteAllowed {"quote_id"} alone, strictly: an object, no unknown
// or repeated keys, no trailing data. amount may be a string or a JSON
// number; either way its text is kept exactly, never passed through float64.
func parseConvertBody(body []byte, quoteAllowed bool) (convertBody, error) {
	var out convertBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return out, malformed("", "the body must be a JSON object")
	}
	expected := "amount, from_currency, to_currency"
	if quoteAllowed {
		expected += " (or quote_id alone)"
	}
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return out, malformed("", "the body is not valid JSON")
		}
		key, _ := kt.(string)
		if seen[key] {
			return out, malformed(key, "%s appears more than once", key)
		}
		seen[key] = true
		vt, err := dec.Token()
		if err != nil {
			return out, malformed(key, "the body is not valid JSON")
		}
		if d, ok := vt.(json.Delim); ok && (d == '{' || d == '[') {
			return out, malformed(key, "%s must be a string", key)
		}
		switch key {
		case "amount":
			switch v := vt.(type) {
			case string:
				out.Amount = v
			case json.Number:
				out.Amount = v.String()
			default:
				return out, malformed(key, "amount must be a decimal string such as \"500.00\" (or a JSON number)")
			}
		case "from_currency", "to_currency", "quote_id":
			s, ok := vt.(string)
			if !ok {
				return out, malformed(key, "%s must be a string", key)
			}
			switch key {
			case "from_currency":
				out.From = s
			case "to_currency":
				out.To = s
			default:
				if !quoteAllowed {
					return out, malformed(key, "unknown field %q; expected %s", key, expected)
				}
				out.QuoteID = s
			}
		default:
			return out, malformed(key, "unknown field %q; expected %s", key, expected)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return out, malformed("", "the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return out, malformed("", "unexpected data after the JSON object")
	}
	if seen["quote_id"] {
		for _, k := range []string{"amount", "from_currency", "to_currency"} {
			if seen[k] {
				return out, malformed(k, "%s cannot be sent with quote_id: the quote fixes it", k)
			}
		}
		return out, nil
	}
	for _, k := range []string{"amount", "from_currency", "to_currency"} {
		if !seen[k] {
			return out, malformed(k, "%s is required", k)
		}
	}
	return out, nil
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

// microTime writes the instants of receipts and quotes: to the
// microsecond PostgreSQL keeps, always six digits.
const microTime = "2006-01-02T15:04:05.000000Z07:00"

// pricingJSON is the public form of fx.Pricing, in receipts and quotes
// alike (embedded: its fields appear in place). Rule is empty only on
// receipts from before the source policy. The rates and the margin are in
// their shortest exact decimal form (see rateText); amounts in their
// currency's minor units.
type pricingJSON struct {
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
	// Stale says a leg was older than its provider's staleness bound when
	// it was priced; false on receipts from before CES recorded it.
	Stale bool `json:"stale"`
}

// rateText writes a receipt's or quote's mid rate, margin and applied
// rate in their shortest exact decimal form, the form of the hashed text
// (audit.Canonical): no trailing zeros, never an exponent. At margin 0
// the mid and applied rates are then the same string.
func rateText(d decimal.Decimal) string { return d.String() }

func toPricingJSON(p fx.Pricing) pricingJSON {
	return pricingJSON{
		Amount: fx.FormatAmount(p.From, p.Amount), FromCurrency: p.From, ToCurrency: p.To,
		MidRate: rateText(p.MidRate), Margin: rateText(p.Margin), AppliedRate: rateText(p.AppliedRate),
		ConvertedAmount: fx.FormatAmount(p.To, p.ConvertedAmount), Rounding: p.Rounding, Provider: p.Provider, Rule: p.Rule,
		AsOf: rfc3339(p.AsOf), Legs: legsJSON(p.Legs), Stale: p.IsStale(),
	}
}

// receiptJSON is the public form of a conversion.
type receiptJSON struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	pricingJSON
	QuoteID string `json:"quote_id,omitempty"`
	Hash    string `json:"hash"`
}

func toReceiptJSON(r fx.Receipt) receiptJSON {
	return receiptJSON{ID: r.ID, CreatedAt: r.CreatedAt.UTC().Format(microTime), pricingJSON: toPricingJSON(r.Pricing), QuoteID: r.QuoteID, Hash: r.Hash}
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
	b, err := parseConvertBody(c.Body(), true)
	if err != nil {
		return err
	}
	r, replayed, err := h.d.Conversions.Convert(c.UserContext(), conversions.Request{
		Amount: b.Amount, From: b.From, To: b.To, QuoteID: b.QuoteID, IdempotencyKey: key,
		RequestID: requestID(c), ClientAddress: clientaddr.Of(c), APIKeyID: client(c).ID,
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

// quoteJSON is the public form of a quote.
type quoteJSON struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
	pricingJSON
}

// quote serves POST /api/v1/quotes.
func (h *handlers) quote(c *fiber.Ctx) error {
	b, err := parseConvertBody(c.Body(), false)
	if err != nil {
		return err
	}
	q, err := h.d.Conversions.Quote(c.UserContext(), conversions.Request{
		Amount: b.Amount, From: b.From, To: b.To, RequestID: requestID(c), ClientAddress: clientaddr.Of(c), APIKeyID: client(c).ID,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(quoteJSON{
		ID: q.ID, CreatedAt: q.CreatedAt.UTC().Format(microTime), ExpiresAt: q.ExpiresAt.UTC().Format(microTime),
		pricingJSON: toPricingJSON(q.Pricing),
	})
}
