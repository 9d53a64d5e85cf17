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
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/gofiber/fiber/v2/utils"

	"ces/internal/clients"
	"ces/internal/conversions"
	"ces/internal/logging"
	"ces/internal/rates"
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
	// LastIngestionError explains an empty database to clients; it may be nil.
	LastIngestionError func(ctx context.Context) string
	Log                *slog.Logger
	Now                func() time.Time
	// Metrics observes requests and conversions; nil disables it.
	Metrics Observer
	// MetricsHandler serves /metrics; nil leaves it out.
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
	// Admin, when set, mounts the admin console under /admin.
	Admin interface{ Mount(app *fiber.App) }
	// RequestTimeout is every request's deadline, carried by its context
	// into each PostgreSQL and Redis call (REQUEST_TIMEOUT); zero: none.
	RequestTimeout time.Duration
}

// Observer records finished requests and conversion outcomes.
type Observer interface {
	Request(route, method string, status int, elapsed time.Duration)
	Conversion(outcome string)
}

// BodyLimit bounds request bodies; conversion requests are a few hundred bytes.
const BodyLimit = 16 << 10

// New builds the Fiber app for main and for tests.
func New(d Deps) *fiber.App {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
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
	})
	app.Use(recover.New())
	// Random (UUIDv4) ids: Fiber's default counts up from one random
	// seed, so ids were nearly sequential and guessable.
	app.Use(requestid.New(requestid.Config{Generator: utils.UUIDv4}))
	app.Use(func(c *fiber.Ctx) error {
		ctx := logging.WithRequestID(c.UserContext(), requestID(c))
		// The admin console's actions (a whole-log verify, a Temporal call
		// after a decision) are bounded by their own timeouts instead.
		if d.RequestTimeout > 0 && !strings.HasPrefix(c.Path(), "/admin") {
			// A conversion still waiting on the database when the deadline
			// passes is rolled back and answered 503, never committed after
			// its client was told it failed.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d.RequestTimeout)
			defer cancel()
		}
		c.SetUserContext(ctx)
		return c.Next()
	})
	app.Use(accessLog(d.Log, d.Metrics))

	h := &handlers{d: d}
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	if d.MetricsHandler != nil {
		app.Get("/metrics", adaptor.HTTPHandler(d.MetricsHandler))
	}
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
	if d.Conversions != nil {
		convert := h.require(clients.ScopeConvert, false)
		v1.Post("/convert", convert, h.convert)
		v1.Post("/quotes", convert, h.quote)
		v1.Get("/conversions/:id", convert, h.conversion)
	}
	if d.AuditKeys != nil {
		v1.Get("/audit/public-key", h.auditPublicKey)
	}
	if d.Admin != nil {
		d.Admin.Mount(app)
	}
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

type handlers struct {
	d Deps
}

// requestID returns the id the requestid middleware gave this request.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return id
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
		method := strings.Clone(c.Method())
		if m != nil {
			m.Request(route, method, status, elapsed)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.UserContext(), level, "request",
			slog.String("method", method),
			slog.String("route", route),
			slog.String("path", c.Path()),
			slog.Int("status", status),
			slog.Duration("elapsed", elapsed),
			slog.String("client", c.IP()),
		)
		return nil
	}
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
