package httpapi_test

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"ces/internal/clients"
	"ces/internal/httpapi"
	"ces/internal/logging"
)

// BenchmarkServe measures the API's handler alone, from a parsed request
// to a written response, without the network: the part of a request's
// CPU that CES's own code decides (make bench's server CPU rows add
// fasthttp's reads and writes, which the Fiber floor pays too). Each case
// reports its time per request as a multiple of the floor's, measured
// first in the same run: a bare Fiber app answering a constant 420-byte
// JSON body, bench/floor's /rate. The keyed case's time includes its
// Redis round trip's wait, which is not CPU.
func BenchmarkServe(b *testing.B) {
	w := newWorld(b, options{nearCache: true, historyCache: true, quotas: map[string]int{clients.ScopeRatesRead: 1_000_000_000}})
	w.ingest(b, ecbHistory(b)...)
	// The process's own kind of logger, so that access lines are built as
	// in production (the harness's text logger goes through slog); they
	// are written to io.Discard rather than the buffered sink.
	deps := w.deps
	deps.Log = logging.NewTo(io.Discard, "api")
	app := httpapi.New(deps)
	floor := fiber.New(fiber.Config{DisableStartupMessage: true})
	body := []byte(`{"p":"` + strings.Repeat("x", 420-8) + `"}`)
	floor.Get("/rate", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	var floorNs float64
	for _, bc := range []struct {
		name, target string
		keyed        bool
		status       int
	}{
		{"floor", "/rate", false, 200},
		{"direct", "/api/v1/rates?from=EUR&to=USD", false, 200},
		{"cross", "/api/v1/rates?from=USD&to=GBP", false, 200},
		{"at", "/api/v1/rates?from=USD&to=GBP&at=2017-01-10T12:00:00Z", false, 200},
		{"404", "/api/v1/rates?from=USD&to=GBP&at=2000-01-03T12:00:00Z", false, 404},
		{"400", "/api/v1/rates?from=USD&to=XXY", false, 400},
		{"keyed", "/api/v1/rates?from=EUR&to=USD", true, 200},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := app.Handler()
			if bc.name == "floor" {
				h = floor.Handler()
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
			serve := func() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.ResetUserValues() // as fasthttp's server does between requests
				ctx.Request.Header.SetMethod(fasthttp.MethodGet)
				ctx.Request.SetRequestURI(bc.target)
				if bc.keyed {
					ctx.Request.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+w.key)
				}
				h(&ctx)
			}
			serve()
			if got := ctx.Response.StatusCode(); got != bc.status {
				b.Fatalf("%s answered %d, want %d: %s", bc.target, got, bc.status, ctx.Response.Body())
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if bc.name == "floor" {
				floorNs = perOp
			} else if floorNs > 0 {
				b.ReportMetric(perOp/floorNs, "x-floor")
			}
		})
	}
}
