// Command floor is the benchmark's floor: the least a CES endpoint could
// cost on this machine. On FLOOR_ADDR, Fiber serves GET /rate, a constant
// JSON body the size of a rates response (the Fiber floor: CES's own HTTP
// stack with no work behind it), and POST /insert, one audit-shaped row
// inserted through the same driver and pool size as the API (the insert
// floor; FLOOR_API_KEY_ID names the client key the row references). On
// FLOOR_RAW_ADDR, fasthttp alone writes the same pre-encoded
// bytes for any request (the raw floor: no router, no middleware).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"ces/internal/store"
)

var jsonType = []byte(fiber.MIMEApplicationJSON)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	size, _ := strconv.Atoi(os.Getenv("FLOOR_BODY_SIZE"))
	if size < 2 {
		size = 420
	}
	// A valid JSON document of exactly size bytes.
	body := []byte(`{"p":"` + strings.Repeat("x", size-8) + `"}`)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pool, _ := strconv.Atoi(os.Getenv("DB_MAX_CONNS"))
	if pool < 1 {
		pool = 16
	}
	db, err := store.Open(ctx, os.Getenv("DATABASE_URL"), pool)
	if err != nil {
		log.Error("database", "error", err.Error())
		os.Exit(1)
	}
	defer db.Close()
	legID, _ := strconv.ParseInt(os.Getenv("FLOOR_RATE_ID"), 10, 64)

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/rate", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	apiKeyID := os.Getenv("FLOOR_API_KEY_ID")
	app.Post("/insert", func(c *fiber.Ctx) error {
		// The columns and values of a real receipt, with its foreign keys
		// (the rate, the client's key) and its unique idempotency key; no
		// computation, one autocommitted statement.
		_, err := db.ExecContext(c.UserContext(), `INSERT INTO conversion_audits
			(id, created_at, amount, from_currency, to_currency, mid_rate, margin, applied_rate, converted_amount,
			 rounding, provider, as_of, leg1_rate_id, request_id, idempotency_key, request_sha256, client_address, hash,
			 pricing_rule, minor_units, rate_precision, api_key_id)
			VALUES (?, ?, '500.00', 'USD', 'NGN', '418.065024', '0.005', '415.97469888', '207987.35',
			 'half_even', 'openexchangerates', '2022-09-01T03:00:00Z', ?, 'floor', ?, repeat('a', 64), '127.0.0.1', repeat('b', 64),
			 'direct', 2, 20, ?::uuid)`,
			uuid.NewString(), time.Now().UTC(), legID, "ces-"+uuid.NewString(), apiKeyID)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).Send(body)
	})
	raw := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) {
		c.Response.Header.SetContentTypeBytes(jsonType)
		c.Response.SetBodyRaw(body)
	}}
	if addr := os.Getenv("FLOOR_RAW_ADDR"); addr != "" {
		go func() {
			if err := raw.ListenAndServe(addr); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		raw.Shutdown()
		app.ShutdownWithTimeout(5 * time.Second)
	}()
	addr := os.Getenv("FLOOR_ADDR")
	if err := app.Listen(addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
