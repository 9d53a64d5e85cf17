package httpapi

import (
	"context"
	_ "embed"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers as long as the process serves HTTP.
func (h *handlers) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok"})
}

type checkJSON struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

type readyJSON struct {
	Status string               `json:"status"`
	Checks map[string]checkJSON `json:"checks"`
}

// readyz runs every dependency check in parallel, each bounded, and
// answers 503 when a required one fails. Optional ones (Redis, Temporal)
// show as failing without making the API unready: lookups fall back.
func (h *handlers) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	names := make([]string, 0, len(h.d.Checks))
	for n := range h.d.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]checkJSON, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := h.d.Checks[n](ctx)
			if h.d.Checked != nil {
				h.d.Checked(n, err)
			}
			if err != nil {
				results[i] = checkJSON{Status: "failing", Error: err.Error()}
				return
			}
			results[i] = checkJSON{Status: "ok"}
		}()
	}
	wg.Wait()
	body := readyJSON{Status: "ready", Checks: map[string]checkJSON{}}
	for i, n := range names {
		body.Checks[n] = results[i]
	}
	status := fiber.StatusOK
	for _, n := range h.d.Required {
		if body.Checks[n].Status != "ok" {
			body.Status, status = "unavailable", fiber.StatusServiceUnavailable
		}
	}
	if status == fiber.StatusOK {
		for _, r := range results {
			if r.Status != "ok" {
				body.Status = "degraded"
			}
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(body)
}

//go:embed openapi.json
var openapiDoc []byte

// openapi serves the OpenAPI 3 description of the API.
func (h *handlers) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openapiDoc)
}
