package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/catalog"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/rates"
)

// MaxHistoryDays bounds a history request.
const MaxHistoryDays = 366

// legJSON is a stored exchange_rates row a rate derives from.
type legJSON struct {
	ID       int64  `json:"id"`
	Provider string `json:"provider"`
	Base     string `json:"base"`
	Quote    string `json:"quote"`
	Rate     string `json:"rate"`
	AsOf     string `json:"as_of"`
	// Authority names who fixed a legal peg (its as_of is the day it took
	// effect); absent for a published rate, whose provider says it.
	Authority string `json:"authority,omitempty"`
}

// rateJSON is one from→to rate, the unit of every rates response.
type rateJSON struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Rate       string `json:"rate"`
	AsOf       string `json:"as_of"`
	FetchedAt  string `json:"fetched_at"`
	Provider   string `json:"provider"`
	Rule       string `json:"rule"`
	Via        string `json:"via,omitempty"`
	Stale      bool   `json:"stale"`
	AgeSeconds int64  `json:"age_seconds"`
	// UnderReview, only when true: a leg's series has a newer publication
	// held by the quality gate, so this rate is shown but not converted.
	UnderReview bool      `json:"under_review,omitempty"`
	Legs        []legJSON `json:"legs"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func legsJSON(legs []fx.Rate) []legJSON {
	out := make([]legJSON, len(legs))
	for i, l := range legs {
		out[i] = legJSON{ID: l.ID, Provider: l.Provider, Base: l.Base, Quote: l.Quote, Rate: fx.Exact(l.Value), AsOf: rfc3339(l.AsOf)}
		if l.Provider == catalog.PegProvider {
			if p, ok := catalog.PegOf(l.Quote); ok {
				out[i].Authority = p.Authority
			}
		}
	}
	return out
}

func toJSON(r rates.Result) rateJSON {
	return rateJSON{
		From: r.From, To: r.To, Rate: fx.Exact(r.Value), AsOf: rfc3339(r.AsOf), FetchedAt: rfc3339(r.FetchedAt),
		Provider: r.Provider, Rule: r.Rule, Via: r.Via, Stale: r.Stale, AgeSeconds: int64(r.Age / time.Second), UnderReview: r.UnderReview, Legs: legsJSON(r.Legs),
	}
}

// currency reads and validates one currency query parameter. Fiber's
// query strings are only valid during the handler; the code is copied.
func currency(c *fiber.Ctx, field string, required bool) (string, error) {
	v := strings.Clone(c.Query(field))
	if v == "" {
		if required {
			return "", invalid(CodeInvalidCurrency, field, field+" is required: a three-letter ISO 4217 code such as USD")
		}
		return "", nil
	}
	cur, err := fx.ParseCurrency(v)
	if err != nil {
		return "", &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidCurrency, Field: field, Message: err.Error()}
	}
	return cur.Code, nil
}

// parseInstant reads an RFC 3339 time or a YYYY-MM-DD date. A date means
// the end of that day in UTC when endOfDay is set (the rate in force on
// that day), its start otherwise.
func parseInstant(c *fiber.Ctx, field string, endOfDay bool) (time.Time, error) {
	v := c.Query(field)
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		d, derr := time.Parse(time.DateOnly, v)
		if derr != nil {
			return time.Time{}, invalid(CodeInvalidParameter, field, fmt.Sprintf("%s must be an RFC 3339 time (2026-11-01T12:00:00Z) or a date (2026-11-01)", field))
		}
		t = d
		if endOfDay {
			t = d.Add(24*time.Hour - time.Nanosecond)
		}
	}
	t = t.UTC()
	// PostgreSQL refuses year 0, and an instant centuries away overflows
	// an age in seconds: neither is a question about exchange rates.
	if t.Before(earliestInstant) || t.After(latestInstant) {
		return time.Time{}, invalid(CodeInvalidParameter, field, fmt.Sprintf("%s must lie between %s and %s",
			field, earliestInstant.Format(time.DateOnly), latestInstant.Format(time.DateOnly)))
	}
	return t, nil
}

// The instants a client may ask about: no exchange-rate history goes back
// further than the first, nor forward beyond the second.
var (
	earliestInstant = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	latestInstant   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// sendCached writes body as JSON with a weak ETag over its stable part
// (etagKey: the rows it derives from) and answers 304 when the client has it.
func sendCached(c *fiber.Ctx, body any, etagKey, cacheControl string) error {
	if ok := notModified(c, etagFor(etagKey), cacheControl); ok {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.JSON(body)
}

func etagFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`
}

// sendEncoded is sendCached for a body already encoded, with its ETag.
func sendEncoded(c *fiber.Ctx, e encoded, cacheControl string) error {
	if notModified(c, e.etag, cacheControl) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(e.body)
}

// sendResult is sendCached for one rate, its body and ETag encoded once
// per memoized answer (r.Slot) and age in whole seconds, the only part
// of the body that changes between requests for it: answers served from
// memory are written as stored bytes.
func sendResult(c *fiber.Ctx, r rates.Result, kind, cacheControl string) error {
	age := int64(r.Age / time.Second)
	if e, ok := r.Slot.Load().(encodedResult); ok && e.age == age && e.kind == kind {
		return sendEncoded(c, e.encoded, cacheControl)
	}
	body, err := json.Marshal(toJSON(r))
	if err != nil {
		return err
	}
	e := encodedResult{encoded: encoded{body: body, etag: etagFor(kind + etagOf(r))}, kind: kind, age: age}
	r.Slot.Store(e)
	return sendEncoded(c, e.encoded, cacheControl)
}

// encodedResult is one rate's encoded answer at one age.
type encodedResult struct {
	encoded
	kind string
	age  int64
}

// encoded is a JSON body and its ETag.
type encoded struct {
	body []byte
	etag string
}

// notModified sets the caching headers and reports whether the client's
// If-None-Match already names etag.
func notModified(c *fiber.Ctx, etag, cacheControl string) bool {
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" {
		for _, m := range strings.Split(match, ",") {
			m = strings.TrimSpace(m)
			if m == etag || m == "*" || strings.TrimPrefix(m, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
	}
	return false
}

// Cache policies: the latest rate changes with any ingestion, so clients
// revalidate (cheaply, with If-None-Match); the past changes only by backfill.
const (
	cacheLatest  = "public, max-age=0, must-revalidate"
	cacheHistory = "public, max-age=300"
)

func etagOf(rs ...rates.Result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.From + r.To + r.Rule + fx.Exact(r.Value) + strconv.FormatBool(r.Stale))
		if r.UnderReview {
			b.WriteString("review")
		}
		for _, l := range r.Legs {
			b.WriteString("|" + strconv.FormatInt(l.ID, 10))
		}
		b.WriteString(";")
	}
	return b.String()
}

type ratesListJSON struct {
	From string `json:"from"`
	// Provider is the pinned provider, or "" when the source policy chose.
	Provider string     `json:"provider"`
	Rates    []rateJSON `json:"rates"`
}

// pinned reads the optional provider= parameter; the rates service
// refuses a provider it does not serve.
func pinned(c *fiber.Ctx) string { return strings.ToLower(strings.Clone(c.Query("provider"))) }

// rates serves GET /api/v1/rates: one pair (latest or at=), or every
// quote of from.
func (h *handlers) rates(c *fiber.Ctx) error {
	from, err := currency(c, "from", true)
	if err != nil {
		return err
	}
	to, err := currency(c, "to", false)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if symbols := c.Query("symbols"); symbols != "" {
		return h.symbols(c, from, to, symbols)
	}
	if c.Query("at") != "" {
		if to == "" {
			return invalid(CodeInvalidParameter, "to", "at= needs a pair: give to as well")
		}
		at, err := parseInstant(c, "at", true)
		if err != nil {
			return err
		}
		r, err := h.d.Rates.At(ctx, from, to, at, pinned(c))
		if err != nil {
			return h.explain(c, err)
		}
		cacheControl := cacheHistory
		if at.After(time.Now()) {
			cacheControl = cacheLatest // a later ingestion can still change this answer
		}
		return sendResult(c, r, "at", cacheControl)
	}
	if to == "" {
		all, err := h.d.Rates.All(ctx, from, pinned(c))
		if err != nil {
			return h.explain(c, err)
		}
		body := ratesListJSON{From: from, Provider: pinned(c), Rates: make([]rateJSON, len(all))}
		for i, r := range all {
			body.Rates[i] = toJSON(r)
		}
		return sendCached(c, body, "all"+etagOf(all...), cacheLatest)
	}
	r, err := h.d.Rates.Latest(ctx, from, to, pinned(c))
	if err != nil {
		return h.explain(c, err)
	}
	return sendResult(c, r, "latest", cacheLatest)
}

// maxSymbols bounds the pairs one symbols= lookup prices.
const maxSymbols = 50

// symbols answers from= with several quotes in one list, in the order
// asked (Frankfurter's and Open Exchange Rates' symbols=), latest or at=.
// A quote no provider prices fails the whole answer, naming it.
func (h *handlers) symbols(c *fiber.Ctx, from, to, text string) error {
	if to != "" {
		return invalid(CodeInvalidParameter, "symbols", "give either to or symbols, not both")
	}
	var at time.Time
	if c.Query("at") != "" {
		var err error
		if at, err = parseInstant(c, "at", true); err != nil {
			return err
		}
	}
	parts := strings.Split(text, ",")
	if len(parts) > maxSymbols {
		return invalid(CodeInvalidParameter, "symbols", fmt.Sprintf("at most %d symbols", maxSymbols))
	}
	ctx := c.UserContext()
	body := ratesListJSON{From: from, Provider: pinned(c), Rates: make([]rateJSON, 0, len(parts))}
	var all []rates.Result
	seen := map[string]bool{}
	for _, p := range parts {
		cur, err := fx.ParseCurrency(strings.TrimSpace(p))
		if err != nil {
			return &apiError{Status: fiber.StatusBadRequest, Code: CodeInvalidCurrency, Field: "symbols", Message: err.Error()}
		}
		if seen[cur.Code] {
			continue
		}
		seen[cur.Code] = true
		var r rates.Result
		if at.IsZero() {
			r, err = h.d.Rates.Latest(ctx, from, cur.Code, pinned(c))
		} else {
			r, err = h.d.Rates.At(ctx, from, cur.Code, at, pinned(c))
		}
		if err != nil {
			return h.explain(c, err)
		}
		all = append(all, r)
		body.Rates = append(body.Rates, toJSON(r))
	}
	return sendCached(c, body, "symbols"+etagOf(all...), cacheLatest)
}

// explain adds the last ingestion failure to a no_rates_yet answer, so a
// client of an empty service learns why it is empty.
func (h *handlers) explain(c *fiber.Ctx, err error) error {
	if h.d.LastIngestionError == nil || !errors.Is(err, fx.ErrNoRates) {
		return err // classified once, by the error handler
	}
	ae := classify(err)
	if ae == nil || ae.Code != CodeNoRatesYet {
		return err
	}
	msg := ae.Message
	if last := h.d.LastIngestionError(c.UserContext()); last != "" {
		msg += "; last ingestion error: " + last
	}
	return &apiError{Status: ae.Status, Code: ae.Code, Message: msg}
}

type pointJSON struct {
	Rate string    `json:"rate"`
	AsOf string    `json:"as_of"`
	Legs []legJSON `json:"legs"`
}

type historyJSON struct {
	From     string      `json:"from"`
	To       string      `json:"to"`
	Provider string      `json:"provider"`
	Rule     string      `json:"rule"`
	Via      string      `json:"via,omitempty"`
	Start    string      `json:"start"`
	End      string      `json:"end"`
	Points   []pointJSON `json:"points"`
}

// history serves GET /api/v1/rates/history: the stored series of a pair
// between start and end (dates are whole days; end's day included).
func (h *handlers) history(c *fiber.Ctx) error {
	from, err := currency(c, "from", true)
	if err != nil {
		return err
	}
	to, err := currency(c, "to", true)
	if err != nil {
		return err
	}
	if c.Query("start") == "" || c.Query("end") == "" {
		field := "start"
		if c.Query("start") != "" {
			field = "end"
		}
		return invalid(CodeInvalidParameter, field, "start and end are required (RFC 3339 times or dates)")
	}
	start, err := parseInstant(c, "start", false)
	if err != nil {
		return err
	}
	end, err := parseInstant(c, "end", true)
	if err != nil {
		return err
	}
	if !end.After(start) {
		return invalid(CodeInvalidParameter, "end", "end must be after start")
	}
	if end.Sub(start) > MaxHistoryDays*24*time.Hour {
		return invalid(CodeInvalidParameter, "end", fmt.Sprintf("the range is longer than %d days; ask for several shorter ranges", MaxHistoryDays))
	}
	// The encoded answer is kept until stored history next changes: a
	// history is immutable until a backfill or a quarantine decision.
	v, err := h.d.Rates.Memoize(fmt.Sprintf("history response %s %s %s %d %d", from, to, pinned(c), start.UnixNano(), end.UnixNano()), func() (any, uint32, error) {
		series, err := h.d.Rates.History(c.UserContext(), from, to, start, end.Add(time.Microsecond), pinned(c))
		if err != nil {
			return nil, 0, err
		}
		e, err := encodeHistory(from, to, pinned(c), start, end, series)
		return e, uint32(256 + len(e.body)), err
	})
	if err != nil {
		return h.explain(c, err)
	}
	return sendEncoded(c, v.(encoded), cacheHistory)
}

func encodeHistory(from, to, provider string, start, end time.Time, series []fx.Quote) (encoded, error) {
	body := historyJSON{From: from, To: to, Provider: provider, Start: rfc3339(start), End: rfc3339(end), Points: make([]pointJSON, len(series))}
	if from == to {
		body.Rule = policy.RuleIdentity
	}
	if len(series) > 0 {
		body.Provider, body.Rule, body.Via = series[0].Provider, series[0].Rule, series[0].Via
	}
	var key strings.Builder
	key.WriteString("history" + from + to + body.Start + body.End)
	for i, q := range series {
		body.Points[i] = pointJSON{Rate: fx.Exact(q.Value), AsOf: rfc3339(q.AsOf), Legs: legsJSON(q.Legs)}
		for _, l := range q.Legs {
			key.WriteString("|" + strconv.FormatInt(l.ID, 10))
		}
	}
	b, err := json.Marshal(body)
	return encoded{body: b, etag: etagFor(key.String())}, err
}

type currencyJSON struct {
	fx.Currency
	Providers []string `json:"providers"`
	Default   string   `json:"default_provider,omitempty"`
	Since     string   `json:"since,omitempty"`
}

type currenciesJSON struct {
	Currencies []currencyJSON `json:"currencies"`
}

// currencies serves GET /api/v1/currencies.
func (h *handlers) currencies(c *fiber.Ctx) error {
	list, err := h.d.Rates.Currencies(c.UserContext())
	if err != nil {
		return h.explain(c, err)
	}
	body := currenciesJSON{Currencies: make([]currencyJSON, len(list))}
	var key strings.Builder
	for i, cur := range list {
		body.Currencies[i] = currencyJSON{Currency: cur.Currency, Providers: cur.Providers, Default: cur.Default}
		if !cur.Since.IsZero() {
			body.Currencies[i].Since = rfc3339(cur.Since)
		}
		key.WriteString(cur.Code + strings.Join(cur.Providers, ",") + "|" + cur.Default + "|" + body.Currencies[i].Since)
	}
	return sendCached(c, body, "currencies"+key.String(), cacheLatest)
}
