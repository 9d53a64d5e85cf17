// Package httpapi is CES's HTTP interface on Fiber: the public /api/v1
// endpoints, health and readiness, and the error contract every handler
// shares.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/utils"

	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/conversions"
	"ces/internal/logging"
	"ces/internal/rates"
	"ces/internal/tracing"
)

// Check reports whether one dependency works.
type Check func(ctx context.Context) error

// Deps is what the API needs.
type Deps struct {
	Rates       *rates.Service
	Conversions *conversions.Service
	// Checks are the readiness checks by dependency name; Required names
	// those without which the API cannot serve (readyz answers 503).
	Checks   map[string]Check
	Required []string
	// Checked, when set, is told each check's outcome (the API's
	// ces_dependency_up gauge): readiness probes feed it, not requests.
	Checked func(name string, err error)
	// LastIngestionError explains an empty database to clients; it may be nil.
	LastIngestionError func(ctx context.Context) string
	Log                *slog.Logger
	Now                func() time.Time
	// Metrics observes requests and conversions; nil disables it.
	Metrics Observer
	// MetricsHandler serves /metrics on the admin app (NewAdmin); nil
	// leaves it out.
	MetricsHandler http.Handler
	// Auth checks clients' API keys; without it every endpoint that needs
	// a key refuses. RatesPublic admits lookups without a key.
	Auth        Authenticator
	RatesPublic bool
	// Quotas, when set, limits each key's requests (429 over the limit).
	Quotas Quotas
	// AddressQuotas, when set, limits the requests RatesPublic admits
	// without a key, per client address (429 over the limit).
	AddressQuotas AddressQuotas
	// CORSOrigins, when set, are the browser origins allowed to call
	// /api/v1 (CORS_ALLOW_ORIGINS, comma-separated, or "*"); empty: none.
	CORSOrigins string
	// AuditKeys, when set, publishes the seal signing keys.
	AuditKeys AuditKeys
	// Admin, when set, mounts the admin console under /admin on the admin
	// app (NewAdmin).
	Admin interface{ Mount(app *fiber.App) }
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (TRUSTED_PROXIES); the address receipts, the access log and the
	// admin sign-in lock-out use (see clientaddr).
	TrustedProxies clientaddr.Proxies
	// RequestTimeout is every request's deadline, carried by its context
	// into each PostgreSQL and Redis call (REQUEST_TIMEOUT); zero: none.
	RequestTimeout time.Duration
	// Tracing opens a span per request (tracing.Setup turned tracing on);
	// off, the middleware is not installed at all.
	Tracing bool
}

// Observer records finished requests and conversion outcomes.
type Observer interface {
	Request(route, method string, status int, elapsed time.Duration)
	Conversion(outcome string)
}

// BodyLimit bounds request bodies; conversion requests are a few hundred bytes.
const BodyLimit = 16 << 10

// New builds the public app, for main and for tests: the /api/v1
// endpoints, /healthz and /readyz. The admin console and /metrics are
// NewAdmin's, on a listener of their own.
func New(d Deps) *fiber.App {
	d = withDefaults(d)
	app := newApp(d)
	h := &handlers{d: d}
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	v1 := app.Group("/api/v1")
	if d.CORSOrigins != "" {
		v1.Use(cors.New(cors.Config{
			AllowOrigins:  d.CORSOrigins,
			AllowMethods:  "GET,POST,HEAD,OPTIONS",
			AllowHeaders:  "Authorization,Content-Type,Idempotency-Key,If-None-Match",
			ExposeHeaders: "Idempotency-Key,Idempotent-Replayed,Location,ETag,Retry-After,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset,X-Request-ID",
			MaxAge:        600,
		}))
	}
	v1.Use(requestConventions)
	v1.Get("/openapi.json", h.openapi)
	read := h.require(clients.ScopeRatesRead, d.RatesPublic)
	v1.Get("/rates", read, h.rates)
	v1.Get("/rates/history", read, h.history)
	v1.Get("/currencies", read, h.currencies)
	v1.Get("/providers", read, h.providers)
	if d.Conversions != nil {
		convert := h.require(clients.ScopeConvert, false)
		v1.Post("/convert", convert, h.convert)
		v1.Post("/quotes", convert, h.quote)
		v1.Get("/conversions/:id", convert, h.conversion)
	}
	if d.AuditKeys != nil {
		v1.Get("/audit/public-key", h.auditPublicKey)
	}
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

// NewAdmin builds the operators' app (ADMIN_ADDR): the admin console under
// /admin and /metrics, kept off the public listener so that neither a
// sign-in form nor the metrics are reachable from where clients are.
func NewAdmin(d Deps) *fiber.App {
	d = withDefaults(d)
	app := newApp(d)
	if d.MetricsHandler != nil {
		app.Get("/metrics", adaptor.HTTPHandler(d.MetricsHandler))
	}
	if d.Admin != nil {
		d.Admin.Mount(app)
	}
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

func withDefaults(d Deps) Deps {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// newApp is the Fiber app and the middleware both listeners share.
func newApp(d Deps) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "ces",
		ErrorHandler:          errorHandler(d.Log),
		BodyLimit:             BodyLimit,
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		DisableStartupMessage: true,
		JSONEncoder:           json.Marshal,
		JSONDecoder:           json.Unmarshal,
		// X-Forwarded-Proto and -Host count only from a trusted proxy
		// (c.Protocol decides whether admin cookies are Secure). The
		// client's address is clientaddr's: Fiber's ProxyHeader would take
		// the leftmost X-Forwarded-For entry, the one a client writes.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.TrustedProxies.Strings(),
	})
	app.Use(recover.New())
	app.Use(serverRequestID)
	if d.Tracing {
		app.Use(traceRequest)
	}
	app.Use(clientaddr.Middleware(d.TrustedProxies))
	app.Use(func(c *fiber.Ctx) error {
		ctx := logging.WithRequestID(c.UserContext(), requestID(c))
		// The admin console's actions (a whole-log verify, a Temporal call
		// after a decision) are bounded by their own timeouts instead.
		if d.RequestTimeout > 0 && !strings.HasPrefix(c.Path(), "/admin") {
			// A conversion still waiting on the database when the deadline
			// passes is rolled back and answered 503, never committed after
			// its client was told it failed. The timer starts only when a
			// call waits on the deadline (deadlineContext).
			dc := newDeadlineContext(ctx, d.RequestTimeout)
			defer dc.end()
			ctx = dc
		}
		c.SetUserContext(ctx)
		return c.Next()
	})
	app.Use(accessLog(d.Log, d.Metrics))
	app.Use(correlationConvention)
	return app
}

type handlers struct {
	d Deps
}

// requestIDKey is where serverRequestID keeps the request's id.
type requestIDKey struct{}

// serverRequestID gives every request an id of the server's own making, a
// random UUIDv4 (never a counter a client could guess from its own), and
// answers it in X-Request-ID. A client's X-Request-ID is never taken as
// the id: receipts record the id, and their hashes must cover exactly the
// text PostgreSQL stores, which a client's bytes (invalid UTF-8, any
// length) need not be. See correlationConvention for what a client's
// value may be instead.
func serverRequestID(c *fiber.Ctx) error {
	id := utils.UUIDv4()
	c.Locals(requestIDKey{}, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// requestID returns the id serverRequestID gave this request.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey{}).(string)
	return id
}

// traceRequest opens the request's span, the root of what CES does for
// it. A client's traceparent is not followed: a caller outside could
// otherwise force sampling, or graft CES's spans onto a trace of its own.
// The span is named after the route template once routing has matched
// it, never the raw path, whose query string may carry values.
func traceRequest(c *fiber.Ctx) error {
	// c.Method() aliases fasthttp's buffer; the span outlives the request.
	method := strings.Clone(c.Method())
	ctx, span := tracing.StartServer(c.UserContext(), method)
	defer span.End()
	span.SetString("http.request.method", method)
	span.SetString("ces.request_id", requestID(c))
	c.SetUserContext(ctx)
	err := c.Next()
	route := strings.Clone(c.Route().Path)
	span.SetName(method + " " + route)
	span.SetString("http.route", route)
	status := c.Response().StatusCode()
	span.SetInt("http.response.status_code", status)
	if status >= 500 {
		span.Fail(fiber.ErrInternalServerError)
	}
	return err
}

// MaxCorrelationID is the longest X-Request-ID a client may send.
const MaxCorrelationID = 128

// validCorrelationID reports whether a client's X-Request-ID is 1 to
// MaxCorrelationID characters of A-Z, a-z, 0-9 and ._:- (UUIDs, hex
// trace ids and the like).
func validCorrelationID(b []byte) bool {
	if len(b) == 0 || len(b) > MaxCorrelationID {
		return false
	}
	for _, ch := range b {
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '.', ch == '_', ch == ':', ch == '-':
		default:
			return false
		}
	}
	return true
}

// correlationID is the client's X-Request-ID when it is one valid value,
// logged as correlation_id beside the server's request_id; "" otherwise.
func correlationID(c *fiber.Ctx) string {
	vals := c.Request().Header.PeekAll(fiber.HeaderXRequestID)
	if len(vals) != 1 || !validCorrelationID(vals[0]) {
		return ""
	}
	return string(vals[0])
}

// correlationConvention refuses a request whose X-Request-ID is not one
// valid correlation id (400 invalid_parameter), before any handler runs
// and so before anything is written: a client that sends one expects to
// find it in CES's logs, and one that cannot be logged as sent is better
// refused than silently dropped.
func correlationConvention(c *fiber.Ctx) error {
	vals := c.Request().Header.PeekAll(fiber.HeaderXRequestID)
	switch {
	case len(vals) == 0:
	case len(vals) > 1:
		return invalid(CodeInvalidParameter, fiber.HeaderXRequestID, fmt.Sprintf("%d X-Request-ID headers: send one", len(vals)))
	case !validCorrelationID(vals[0]):
		return invalid(CodeInvalidParameter, fiber.HeaderXRequestID,
			fmt.Sprintf("X-Request-ID must be 1 to %d characters of A-Z, a-z, 0-9 and ._:- (it is logged as correlation_id; CES makes its own request id)", MaxCorrelationID))
	}
	return c.Next()
}

// accessLog writes one structured line per request, with the request id,
// and feeds the metrics. The route is the matched pattern, so metrics do
// not explode with query strings or ids.
func accessLog(log *slog.Logger, m Observer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			// Let the error handler write the response now, so the status is final.
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				c.Status(fiber.StatusInternalServerError)
			}
		}
		elapsed := time.Since(start)
		status := c.Response().StatusCode()
		route := c.Route().Path
		// c.Method() aliases fasthttp's buffer, which the next request on the
		// connection overwrites; a metric label outlives this request.
		method := methodLabel(c.Method())
		if m != nil {
			m.Request(route, method, status, elapsed)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		logging.LogRequest(c.UserContext(), log, level, logging.Request{
			Method: method, Route: route, Path: c.Path(), Status: status, Elapsed: elapsed,
			Client: clientaddr.Of(c), CorrelationID: correlationID(c),
		})
		return nil
	}
}

// methodLabel is method as a string of its own: a constant for the
// methods the router knows (no allocation), a copy otherwise.
func methodLabel(method string) string {
	switch method {
	case fiber.MethodGet:
		return fiber.MethodGet
	case fiber.MethodHead:
		return fiber.MethodHead
	case fiber.MethodPost:
		return fiber.MethodPost
	case fiber.MethodOptions:
		return fiber.MethodOptions
	}
	return strings.Clone(method)
}

// requestConventions refuses, before any handler runs, what a client
// library might send by mistake: a POST body that is not JSON (415), and
// two Idempotency-Key headers (400), of which no one can say which counts.
func requestConventions(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodPost {
		mt, _, _ := strings.Cut(string(c.Request().Header.ContentType()), ";")
		if !strings.EqualFold(strings.TrimSpace(mt), fiber.MIMEApplicationJSON) {
			return &apiError{Status: fiber.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType, Field: "Content-Type",
				Message: "the body must be JSON: send Content-Type: application/json"}
		}
	}
	if n := len(c.Request().Header.PeekAll(HeaderIdempotencyKey)); n > 1 {
		return invalid(CodeInvalidParameter, HeaderIdempotencyKey, fmt.Sprintf("%d Idempotency-Key headers: send one", n))
	}
	return c.Next()
}
