// Package admin is the CES admin console under /admin: server-rendered
// pages to see rates, conversions and the ingestion of every provider, to
// trigger, pause and resume that ingestion, and to decide what the quality
// gate held back (release or reject a quarantined rate, suspend or resume a
// currency pair). It can change no rate and no audit record: decisions and
// suspensions are appended, and every action is recorded in admin_actions.
// Each user has a role: a viewer reads every page, an operator also acts
// on ingestion, quarantines, pairs and verification, an admin also on API
// keys and console users; the server refuses an action the role lacks.
package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/redis/go-redis/v9"

	"ces/internal/clientaddr"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/ingestion"
	"ces/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Ingestion is what the console needs of one provider's Temporal schedule
// (implemented by *ingestion.Control).
type Ingestion interface {
	Status(ctx context.Context) (ingestion.IngestionStatus, error)
	Trigger(ctx context.Context) error
	Pause(ctx context.Context, note string) error
	Resume(ctx context.Context, note string) error
}

// Republisher is what the console needs of the rates service (implemented
// by *rates.Service), so that a decision is priced at once.
type Republisher interface {
	// Resync copies provider's latest released rates to Redis at once.
	Resync(ctx context.Context, provider string) error
	// SyncSuspensions copies the suspended pairs to Redis at once.
	SyncSuspensions(ctx context.Context) error
}

// Verifier runs verify-audit on a worker through Temporal (implemented
// by *ingestion.Verifications).
type Verifier interface {
	Start(ctx context.Context, startedBy string, full bool) (workflowID, runID string, err error)
	Wait(ctx context.Context, workflowID, runID string) (flow.VerifyAuditResult, error)
}

// Deps is what the console needs.
type Deps struct {
	Stores Stores
	// Verifications runs the Integrity page's verify button; nil disables it.
	Verifications Verifier
	// Revocations announces revoked API keys to every replica; nil skips it.
	Revocations Revocations
	// Redis, when set, keeps the sign-in lock-out shared by every replica,
	// under RedisPrefix; nil: each process counts alone.
	Redis       redis.UniversalClient
	RedisPrefix string
	// Ingestion controls each provider's schedule, by provider name;
	// Providers orders them (default: the names of Ingestion, sorted).
	Ingestion map[string]Ingestion
	Providers []string
	// StaleAfter is how old a provider's newest rate may grow before the
	// dashboard calls it stale; nil never does.
	StaleAfter func(provider string) time.Duration
	// Rates republishes after a release or a suspension change; nil skips it.
	Rates Republisher
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
	signIns *signIns
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
	if d.Providers == nil {
		for name := range d.Ingestion {
			d.Providers = append(d.Providers, name)
		}
		slices.Sort(d.Providers)
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
		"age":     humanAge,
		"percent": percent,
		"against": againstText,
		"check":   checkText,
	}
	c := &Console{d: d, pages: map[string]*template.Template{}, signIns: &signIns{local: newLimiter(d.Now), now: d.Now, prefix: d.RedisPrefix}}
	if d.Redis != nil {
		c.signIns.rdb = redis_rate.NewLimiter(d.Redis)
	}
	for _, page := range []string{"login", "dashboard", "rates", "rate", "conversions", "conversion", "integrity", "quality", "keys", "users", "publisher"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: parse %s: %w", page, err)
		}
		c.pages[page] = t
	}
	return c, nil
}

// Mount registers the console on app.
func (c *Console) Mount(app *fiber.App) {
	app.Use("/admin/static", filesystem.New(filesystem.Config{Root: http.FS(staticFS), PathPrefix: "static", MaxAge: 3600}))
	g := app.Group("/admin", c.securityHeaders)
	g.Get("/login", c.loginPage)
	g.Post("/login", c.login)
	auth := g.Group("", c.requireSession)
	auth.Post("/logout", c.requireCSRF, c.logout)
	// Every other POST is an action: it needs the CSRF token and a role
	// with the power, checked here on the server whatever the page showed.
	action := func(path string, p power, h fiber.Handler) { auth.Post(path, c.requireCSRF, c.allow(p), h) }
	auth.Get("/", c.dashboard)
	action("/ingestion/trigger", operate, c.trigger)
	action("/ingestion/pause", operate, c.pause)
	action("/ingestion/resume", operate, c.resume)
	auth.Get("/publishers/:key", c.publisher)
	auth.Get("/rates", c.rates)
	auth.Get("/rates.csv", c.ratesCSV)
	auth.Get("/rates/:id", c.rate)
	auth.Get("/conversions", c.conversions)
	auth.Get("/conversions/:id", c.conversion)
	auth.Get("/integrity", c.integrity)
	action("/integrity/verify", operate, c.verify)
	auth.Get("/quality", c.quality)
	action("/quality/:id/release", operate, c.decide(true))
	action("/quality/:id/reject", operate, c.decide(false))
	action("/pairs/suspend", operate, c.suspension(true))
	action("/pairs/resume", operate, c.suspension(false))
	auth.Get("/keys", c.keys)
	action("/keys", manage, c.createKey)
	action("/keys/:id/revoke", manage, c.revokeKey)
	auth.Get("/users", c.users)
	action("/users", manage, c.createUser)
	action("/users/:id/role", manage, c.setRole)
	action("/users/:id/disable", manage, c.setDisabled(true))
	action("/users/:id/enable", manage, c.setDisabled(false))
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
	Title string
	User  string
	// Role is the signed-in user's; pages show only the actions it has.
	Role      Role
	CSRF      string
	Providers []string
	Flash     string
	Error     string
	Data      any
}

func (c *Console) render(ctx *fiber.Ctx, status int, page string, v view) error {
	if s := c.session(ctx); s.Username != "" {
		v.User, v.Role, v.CSRF = s.Username, Role(s.Role), s.CSRFToken
	}
	v.Providers = c.d.Providers
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
	keys := []string{"user:" + username, "ip:" + clientaddr.Of(ctx)}
	retry := func(status int, msg string) error {
		token := randomToken()
		c.setCookie(ctx, loginCSRF, token, time.Hour)
		return c.render(ctx, status, "login", view{Title: "Sign in", CSRF: token, Error: msg})
	}
	until, shared := c.signIns.attempt(ctx.UserContext(), keys...)
	if !until.IsZero() {
		ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(until.Sub(c.d.Now()).Seconds())+1))
		return retry(fiber.StatusTooManyRequests, fmt.Sprintf("Too many failed sign-ins. Try again after %s.", until.UTC().Format(time.RFC3339)))
	}
	u, hash, err := c.d.Stores.Console.AdminCredentials(ctx.UserContext(), username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !checkPassword(hash, password) {
		c.signIns.failed(shared, keys...)
		c.d.Log.WarnContext(ctx.UserContext(), "admin sign-in failed", "username", username, "client", clientaddr.Of(ctx))
		return retry(fiber.StatusUnauthorized, "Wrong username or password.")
	}
	// Told only to whoever knows the password: the user exists but may not
	// sign in.
	if _, rerr := ParseRole(u.Role); u.Disabled || rerr != nil {
		c.d.Log.WarnContext(ctx.UserContext(), "admin sign-in refused: user disabled or without a role", "username", username, "client", clientaddr.Of(ctx))
		return retry(fiber.StatusForbidden, "This user is disabled or has no role: ask an admin.")
	}
	c.signIns.succeeded(ctx.UserContext(), keys...)
	token := randomToken()
	expires := c.d.Now().Add(sessionTTL)
	if err := c.d.Stores.Console.CreateSession(ctx.UserContext(), sha256Hex(token), u.ID, randomToken(), expires); err != nil {
		return err
	}
	c.setCookie(ctx, sessionCookie, token, sessionTTL)
	c.setCookie(ctx, loginCSRF, "", -1)
	return ctx.Redirect("/admin/", fiber.StatusSeeOther)
}

func (c *Console) requireSession(ctx *fiber.Ctx) error {
	token := ctx.Cookies(sessionCookie)
	if token != "" {
		s, err := c.d.Stores.Console.SessionByToken(ctx.UserContext(), sha256Hex(token), c.d.Now())
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
	if !sameToken(c.session(ctx).CSRFToken, ctx.FormValue("csrf")) {
		return ctx.Status(fiber.StatusForbidden).SendString("forbidden: missing or wrong CSRF token; reload the page and try again")
	}
	return ctx.Next()
}

func (c *Console) logout(ctx *fiber.Ctx) error {
	if err := c.d.Stores.Console.DeleteSession(ctx.UserContext(), sha256Hex(ctx.Cookies(sessionCookie)), c.d.Now()); err != nil {
		return err
	}
	c.setCookie(ctx, sessionCookie, "", -1)
	return ctx.Redirect("/admin/login", fiber.StatusSeeOther)
}

// session is the signed-in user's session, as requireSession read it.
func (c *Console) session(ctx *fiber.Ctx) store.Session {
	s, _ := ctx.Locals("session").(store.Session)
	return s
}

func (c *Console) user(ctx *fiber.Ctx) string { return c.session(ctx).Username }

// act runs one admin action on target and records it in admin_actions,
// whatever its outcome. do may succeed with a warning (the action took
// effect but a follow-up failed). A refusal (see refusal) answers its
// status through refused; any other outcome sends the operator back to
// back with the outcome as a flash.
func (c *Console) act(ctx *fiber.Ctx, action, target, reason, back string,
	do func(context.Context) (warning string, err error), refused func(status int, msg string) error) error {
	warning, err := do(ctx.UserContext())
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "failed: " + err.Error()
	case warning != "":
		outcome = "ok, but " + warning
	}
	if rerr := c.d.Stores.Console.RecordAdminAction(ctx.UserContext(), store.AdminAction{
		Username: c.user(ctx), Action: action, Target: target, Reason: reason, Outcome: outcome, Client: clientaddr.Of(ctx),
	}); rerr != nil {
		return rerr
	}
	msg := action + " " + target + ": " + outcome
	if err == nil && warning == "" {
		msg = action + " " + target + ": done"
	}
	if status := refusal(err); status != 0 {
		return refused(status, msg)
	}
	return ctx.Redirect(back+"?flash="+url.QueryEscape(msg), fiber.StatusSeeOther)
}

// refusal is the status of an action the store refused, 0 for any other outcome.
func refusal(err error) int {
	switch {
	case errors.Is(err, store.ErrReasonRequired):
		return fiber.StatusBadRequest
	case errors.Is(err, store.ErrQuarantineNotFound), errors.Is(err, store.ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(err, store.ErrAlreadyDecided), errors.Is(err, store.ErrFiguresChanged), errors.Is(err, store.ErrUserExists), errors.Is(err, store.ErrLastAdmin):
		return fiber.StatusConflict
	}
	return 0
}

// formReason is the trimmed reason field of the form.
func formReason(ctx *fiber.Ctx) string {
	return strings.Clone(strings.TrimSpace(ctx.FormValue("reason")))
}
