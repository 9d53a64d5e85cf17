package admin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/conversions"
	"ces/internal/store"
)

// Revocations tells every API replica that a key was revoked
// (implemented by *clients.Authenticator).
type Revocations interface {
	Announce(ctx context.Context, keyID string) error
}

type keysData struct {
	Keys   []clients.Key
	Scopes []string
	// Created is the key made by this request, shown once.
	Created     string
	CreatedName string
}

func (c *Console) keys(ctx *fiber.Ctx) error {
	return c.renderKeys(ctx, fiber.StatusOK, "", keysData{})
}

func (c *Console) renderKeys(ctx *fiber.Ctx, status int, errMsg string, d keysData) error {
	var err error
	if d.Keys, err = c.d.Stores.Keys.APIKeys(ctx.UserContext()); err != nil {
		return err
	}
	d.Scopes = clients.AllScopes
	return c.render(ctx, status, "keys", view{Title: "API keys", Error: errMsg, Data: d})
}

// createKey makes a key and shows it once, in this response only: never
// in a redirect's URL, which browsers and proxies keep.
func (c *Console) createKey(ctx *fiber.Ctx) error {
	name := strings.Clone(strings.TrimSpace(ctx.FormValue("name")))
	var scopes []string
	for _, s := range clients.AllScopes {
		if ctx.FormValue("scope-"+s) == "on" {
			scopes = append(scopes, s)
		}
	}
	perMinute, perr := strconv.Atoi(strings.TrimSpace(ctx.FormValue("per_minute", "0")))
	refused := func(msg string) error {
		return c.renderKeys(ctx, fiber.StatusBadRequest, "create key: "+msg, keysData{})
	}
	switch {
	case name == "" || len(name) > 100:
		return refused("a name of 1 to 100 characters is required")
	case len(scopes) == 0:
		return refused("choose at least one scope")
	case perr != nil || perMinute < 0:
		return refused("requests per minute must be 0 (the scope's default) or more")
	}
	k, plain, hash, err := clients.NewKey(name, scopes, perMinute, c.user(ctx), time.Now())
	if err != nil {
		return err
	}
	err = c.d.Stores.Keys.CreateAPIKey(ctx.UserContext(), k, hash)
	outcome := "ok: " + name + " (" + strings.Join(scopes, ",") + ")"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	if rerr := c.d.Stores.Console.RecordAdminAction(ctx.UserContext(), store.AdminAction{
		Username: c.user(ctx), Action: "apikey-create", Target: "api key " + k.ID, Outcome: outcome, Client: clientaddr.Of(ctx),
	}); rerr != nil {
		return rerr
	}
	if err != nil {
		return err
	}
	return c.renderKeys(ctx, fiber.StatusCreated, "", keysData{Created: plain, CreatedName: name})
}

// revokeKey revokes a key, at once on every replica.
func (c *Console) revokeKey(ctx *fiber.Ctx) error {
	id := strings.Clone(ctx.Params("id"))
	reason := formReason(ctx)
	refused := func(status int, msg string) error { return c.renderKeys(ctx, status, msg, keysData{}) }
	if !conversions.ValidID(id) { // the canonical UUID text, as ids are written
		return refused(fiber.StatusNotFound, "revoke: no such key")
	}
	return c.act(ctx, "apikey-revoke", "api key "+id, reason, "/admin/keys", func(cx context.Context) (string, error) {
		if reason == "" {
			return "", store.ErrReasonRequired
		}
		if err := c.d.Stores.Keys.RevokeAPIKey(cx, id, c.user(ctx), reason); err != nil {
			return "", err
		}
		if c.d.Revocations == nil {
			return "", nil
		}
		if err := c.d.Revocations.Announce(cx, id); err != nil {
			return "announcing it failed: replicas that cannot hear Redis read keys from PostgreSQL, others may accept reads with it for up to " + clients.CacheTTL.String(), nil
		}
		return "", nil
	}, refused)
}
