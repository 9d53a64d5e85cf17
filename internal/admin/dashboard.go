package admin

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/catalog"
	"ces/internal/ingestion"
	"ces/internal/policy"
	"ces/internal/store"
)

// providerStatus is one provider as the dashboard shows it.
type providerStatus struct {
	Name string
	// Publisher is its catalogue entry (zero for file): who it is, the
	// currency it issues, its cadence and polling times.
	Publisher  catalog.Publisher
	NewestAsOf time.Time
	Age        time.Duration
	Stale      bool
	HasRates   bool
	// Health is the newest health check (nil: none yet); a silent
	// publisher is stale whatever its age.
	Health      *store.PublisherCheck
	Status      ingestion.IngestionStatus
	StatusError string
}

type dashboardData struct {
	Providers []providerStatus
	Held      int
	Actions   []store.AdminAction
}

func (c *Console) dashboard(ctx *fiber.Ctx) error {
	return c.renderDashboard(ctx, fiber.StatusOK, "")
}

// renderDashboard shows every provider's freshness and schedule. Temporal
// is asked about the providers at once, so a slow answer costs one wait.
func (c *Console) renderDashboard(ctx *fiber.Ctx, status int, errMsg string) error {
	cx := ctx.UserContext()
	d := dashboardData{Providers: make([]providerStatus, len(c.d.Providers))}
	checks := map[string]store.PublisherCheck{}
	if c.d.Stores.Health != nil {
		list, err := c.d.Stores.Health.LatestChecks(cx)
		if err != nil {
			return err
		}
		for _, h := range list {
			checks[h.Provider] = h
		}
	}
	var wg sync.WaitGroup
	for i, name := range c.d.Providers {
		p := &d.Providers[i]
		p.Name = name
		p.Publisher, _ = catalog.Lookup(name)
		asOf, ok, err := c.d.Stores.Rates.NewestAsOf(cx, name)
		if err != nil {
			return err
		}
		if ok {
			p.NewestAsOf, p.HasRates = asOf, true
			p.Age = c.d.Now().Sub(asOf)
			p.Stale = c.d.StaleAfter != nil && p.Age > c.d.StaleAfter(name)
		}
		if h, ok := checks[name]; ok {
			p.Health = &h
			p.Stale = p.Stale || (p.HasRates && h.Status == policy.Silent)
		}
		in, ok := c.d.Ingestion[name]
		if !ok {
			p.StatusError = "no schedule is configured for " + name
			continue
		}
		wg.Go(func() {
			var err error
			if p.Status, err = in.Status(cx); err != nil {
				p.StatusError = err.Error()
			}
		})
	}
	wg.Wait()
	var err error
	if d.Held, err = c.d.Stores.Quality.CountHeld(cx); err != nil {
		return err
	}
	if d.Actions, err = c.d.Stores.Console.AdminActions(cx, 10); err != nil {
		return err
	}
	return c.render(ctx, status, "dashboard", view{Title: "Dashboard", Error: errMsg, Data: d})
}

// onSchedule runs action on the schedule of the provider the form names,
// with the note Temporal keeps ("reason (by user)"). An unknown provider is
// answered 400 and nothing is recorded; so is a missing reason where one is
// required, as a flash.
func (c *Console) onSchedule(ctx *fiber.Ctx, action string, needReason bool, do func(cx context.Context, in Ingestion, note string) error) error {
	name := strings.Clone(ctx.FormValue("provider"))
	in, ok := c.d.Ingestion[name]
	if !ok {
		return c.renderDashboard(ctx, fiber.StatusBadRequest, fmt.Sprintf("%s: unknown provider %q", action, name))
	}
	reason := formReason(ctx)
	if needReason && reason == "" {
		return ctx.Redirect("/admin/?flash="+url.QueryEscape(action+" "+name+": a reason is required"), fiber.StatusSeeOther)
	}
	note := strings.TrimSpace(reason + " (by " + c.user(ctx) + ")")
	return c.act(ctx, action, name, reason, "/admin/",
		func(cx context.Context) (string, error) { return "", do(cx, in, note) },
		func(status int, msg string) error { return c.renderDashboard(ctx, status, msg) })
}

func (c *Console) trigger(ctx *fiber.Ctx) error {
	return c.onSchedule(ctx, "trigger", false, func(cx context.Context, in Ingestion, _ string) error { return in.Trigger(cx) })
}

func (c *Console) pause(ctx *fiber.Ctx) error {
	return c.onSchedule(ctx, "pause", true, func(cx context.Context, in Ingestion, note string) error { return in.Pause(cx, note) })
}

func (c *Console) resume(ctx *fiber.Ctx) error {
	return c.onSchedule(ctx, "resume", false, func(cx context.Context, in Ingestion, note string) error { return in.Resume(cx, note) })
}

// humanAge writes a duration in its two largest units, "3d 4h" or
// "12m 5s", rounded down to the second; a negative one (a clock ahead of
// ours) reads "in the future".
func humanAge(d time.Duration) string {
	if d < 0 {
		return "in the future"
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units[:len(units)-1] {
		if d >= u.size {
			out := fmt.Sprintf("%d%s", d/u.size, u.name)
			next := units[i+1]
			if rest := (d % u.size) / next.size; rest > 0 {
				out += fmt.Sprintf(" %d%s", rest, next.name)
			}
			return out
		}
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
