// Package admin is the CES admin console under /admin: server-rendered
// pages to see rates, conversions and ingestion health, and to trigger,
// pause and resume ingestion. It can change nothing in the rates or the
// audit log: the data is immutable, and the console only reads it.
package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"ces/internal/fx"
	"ces/internal/store"
	"ces/workflows"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Ingestion is what the console needs of Temporal.
type Ingestion interface {
	Status(ctx context.Context) (workflows.IngestionStatus, error)
	Trigger(ctx context.Context) error
	Pause(ctx context.Context, note string) error
	Resume(ctx context.Context, note string) error
}

// Deps is what the console needs.
type Deps struct {
	Store      *store.Store
	Ingestion  Ingestion
	Provider   string
	StaleAfter time.Duration
	// TemporalUI is the Temporal Web UI's root, for links to runs.
	TemporalUI string
	Namespace  string
	Log        *slog.Logger
	Now        func() time.Time
}

// Console serves the admin pages.
type Console struct {
	d       Deps
	pages   map[string]*template.Template
	limiter *limiter
}

// Cookie names.
const (
	sessionCookie = "ces_session"
	loginCSRF     = "ces_login_csrf"
	sessionTTL    = 12 * time.Hour
)

// New parses the templates and returns a Console.
func New(d Deps) (*Console, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Namespace == "" {
		d.Namespace = "default"
	}
	funcs := template.FuncMap{
		"rfc3339": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"exact": fx.Exact,
		"fixed": fx.FormatAmount,
		"runURL": func(wid, rid string) string {
			return strings.TrimRight(d.TemporalUI, "/") + "/namespaces/" + url.PathEscape(d.Namespace) + "/workflows/" + url.PathEscape(wid) + "/" + url.PathEscape(rid) + "/history"
		},
		"age": func(dur time.Duration) string { return dur.Round(time.Second).String() },
	}
	c := &Console{d: d, pages: map[string]*template.Template{}, limiter: newLimiter(d.Now)}
	for _, page := range []string{"login", "dashboard", "rates", "rate", "conversions", "conversion", "integrity"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: parse %s: %w", page, err)
		}
		c.pages[page] = t
	}
	return c, nil
}

// Mount registers the console on r (the app root).
func (c *Console) Mount(app *fiber.App) {
	app.Use("/admin/static", filesystem.New(filesystem.Config{Root: http.FS(staticFS), PathPrefix: "static", MaxAge: 3600}))
	g := app.Group("/admin", c.securityHeaders)
	g.Get("/login", c.loginPage)
	g.Post("/login", c.login)
	auth := g.Group("", c.requireSession)
	auth.Post("/logout", c.requireCSRF, c.logout)
	auth.Get("/", c.dashboard)
	auth.Post("/ingestion/trigger", c.requireCSRF, c.trigger)
	auth.Post("/ingestion/pause", c.requireCSRF, c.pause)
	auth.Post("/ingestion/resume", c.requireCSRF, c.resume)
	auth.Get("/rates", c.rates)
	auth.Get("/rates.csv", c.ratesCSV)
	auth.Get("/rates/:id", c.rate)
	auth.Get("/conversions", c.conversions)
	auth.Get("/conversions/:id", c.conversion)
	auth.Get("/integrity", c.integrity)
	auth.Post("/integrity/verify", c.requireCSRF, c.verify)
}

func (c *Console) securityHeaders(ctx *fiber.Ctx) error {
	ctx.Set("X-Frame-Options", "DENY")
	ctx.Set("X-Content-Type-Options", "nosniff")
	ctx.Set("Referrer-Policy", "same-origin")
	ctx.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Next()
}

// view is what every page template receives.
type view struct {
	Title    string
	User     string
	CSRF     string
	Provider string
	Flash    string
	Error    string
	Data     any
}

func (c *Console) render(ctx *fiber.Ctx, status int, page string, v view) error {
	if s, ok := ctx.Locals("session").(store.Session); ok {
		v.User, v.CSRF = s.Username, s.CSRFToken
	}
	v.Provider = c.d.Provider
	if v.Flash == "" {
		v.Flash = strings.Clone(ctx.Query("flash"))
	}
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		return fmt.Errorf("admin: render %s: %w", page, err)
	}
	ctx.Type("html", "utf-8")
	return ctx.Status(status).Send(buf.Bytes())
}

func (c *Console) secure(ctx *fiber.Ctx) bool { return ctx.Protocol() == "https" }

// setCookie sets an admin cookie living ttl (negative: delete it). Max-Age
// is relative, so the browser's clock and ours need not agree.
func (c *Console) setCookie(ctx *fiber.Ctx, name, value string, ttl time.Duration) {
	maxAge := int(ttl / time.Second)
	if ttl < 0 {
		maxAge = -1
	}
	ctx.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: "/admin", MaxAge: maxAge,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.secure(ctx),
	})
}

// loginPage shows the sign-in form with a fresh double-submit CSRF token.
func (c *Console) loginPage(ctx *fiber.Ctx) error {
	token := randomToken()
	c.setCookie(ctx, loginCSRF, token, time.Hour)
	return c.render(ctx, fiber.StatusOK, "login", view{Title: "Sign in", CSRF: token})
}

func (c *Console) login(ctx *fiber.Ctx) error {
	if !sameToken(ctx.Cookies(loginCSRF), ctx.FormValue("csrf")) {
		return ctx.Status(fiber.StatusForbidden).SendString("forbidden: missing or wrong CSRF token; reload the sign-in page")
	}
	username := strings.Clone(strings.TrimSpace(ctx.FormValue("username")))
	password := ctx.FormValue("password")
	keys := []string{"user:" + username, "ip:" + ctx.IP()}
	retry := func(status int, msg string) error {
		token := randomToken()
		c.setCookie(ctx, loginCSRF, token, time.Hour)
		return c.render(ctx, status, "login", view{Title: "Sign in", CSRF: token, Error: msg})
	}
	if until := c.limiter.lockedUntil(keys...); !until.IsZero() {
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(until.Sub(c.d.Now()).Seconds())+1))
		return retry(fiber.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins. Try again after %s.", until.UTC().Format(time.RFC3339)))
	}
	id, hash, err := c.d.Store.AdminPasswordHash(ctx.UserContext(), username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !checkPassword(hash, password) {
		c.limiter.fail(keys...)
		c.d.Log.WarnContext(ctx.UserContext(), "admin sign-in failed", "username", username, "client", ctx.IP())
		return retry(fiber.StatusUnauthorized, "Wrong username or password.")
	}
	c.limiter.succeed(keys...)
	token := randomToken()
	expires := c.d.Now().Add(sessionTTL)
	if err := c.d.Store.CreateSession(ctx.UserContext(), sha256Hex(token), id, randomToken(), expires); err != nil {
		return err
	}
	c.setCookie(ctx, sessionCookie, token, sessionTTL)
	c.setCookie(ctx, loginCSRF, "", -1)
	return ctx.Redirect("/admin/", fiber.StatusSeeOther)
}

func (c *Console) requireSession(ctx *fiber.Ctx) error {
	token := ctx.Cookies(sessionCookie)
	if token != "" {
		s, err := c.d.Store.SessionByToken(ctx.UserContext(), sha256Hex(token), c.d.Now())
		if err == nil {
			ctx.Locals("session", s)
			return ctx.Next()
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return ctx.Redirect("/admin/login", fiber.StatusSeeOther)
}

func (c *Console) requireCSRF(ctx *fiber.Ctx) error {
	s, _ := ctx.Locals("session").(store.Session)
	if !sameToken(s.CSRFToken, ctx.FormValue("csrf")) {
		return ctx.Status(fiber.StatusForbidden).SendString("forbidden: missing or wrong CSRF token; reload the page and try again")
	}
	return ctx.Next()
}

func (c *Console) logout(ctx *fiber.Ctx) error {
	if err := c.d.Store.DeleteSession(ctx.UserContext(), sha256Hex(ctx.Cookies(sessionCookie)), c.d.Now()); err != nil {
		return err
	}
	c.setCookie(ctx, sessionCookie, "", -1)
	return ctx.Redirect("/admin/login", fiber.StatusSeeOther)
}

func (c *Console) user(ctx *fiber.Ctx) string {
	s, _ := ctx.Locals("session").(store.Session)
	return s.Username
}

// act runs one admin action and records it, whatever its outcome.
func (c *Console) act(ctx *fiber.Ctx, action, reason string, do func(context.Context) error) error {
	err := do(ctx.UserContext())
	outcome := "ok"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	if rerr := c.d.Store.RecordAdminAction(ctx.UserContext(), store.AdminAction{
		Username: c.user(ctx), Action: action, Target: c.d.Provider, Reason: reason, Outcome: outcome, Client: strings.Clone(ctx.IP()),
	}); rerr != nil {
		return rerr
	}
	msg := action + ": done"
	if err != nil {
		msg = action + ": " + outcome
	}
	return ctx.Redirect("/admin/?flash="+url.QueryEscape(msg), fiber.StatusSeeOther)
}

func (c *Console) trigger(ctx *fiber.Ctx) error {
	return c.act(ctx, "trigger", strings.Clone(ctx.FormValue("reason")), c.d.Ingestion.Trigger)
}

func (c *Console) pause(ctx *fiber.Ctx) error {
	reason := strings.Clone(strings.TrimSpace(ctx.FormValue("reason")))
	if reason == "" {
		return ctx.Redirect("/admin/?flash="+url.QueryEscape("pause: a reason is required"), fiber.StatusSeeOther)
	}
	return c.act(ctx, "pause", reason, func(cx context.Context) error {
		return c.d.Ingestion.Pause(cx, reason+" (by "+c.user(ctx)+")")
	})
}

func (c *Console) resume(ctx *fiber.Ctx) error {
	reason := strings.Clone(strings.TrimSpace(ctx.FormValue("reason")))
	return c.act(ctx, "resume", reason, func(cx context.Context) error {
		return c.d.Ingestion.Resume(cx, strings.TrimSpace(reason+" (by "+c.user(ctx)+")"))
	})
}

type dashboardData struct {
	NewestAsOf  time.Time
	Age         time.Duration
	Stale       bool
	HasRates    bool
	Status      workflows.IngestionStatus
	StatusError string
	Actions     []store.AdminAction
}

func (c *Console) dashboard(ctx *fiber.Ctx) error {
	var d dashboardData
	asOf, ok, err := c.d.Store.NewestAsOf(ctx.UserContext(), c.d.Provider)
	if err != nil {
		return err
	}
	if ok {
		d.NewestAsOf, d.HasRates = asOf, true
		d.Age = c.d.Now().Sub(asOf)
		d.Stale = d.Age > c.d.StaleAfter
	}
	if d.Status, err = c.d.Ingestion.Status(ctx.UserContext()); err != nil {
		d.StatusError = err.Error()
	}
	if d.Actions, err = c.d.Store.AdminActions(ctx.UserContext(), 10); err != nil {
		return err
	}
	return c.render(ctx, fiber.StatusOK, "dashboard", view{Title: "Dashboard", Data: d})
}
