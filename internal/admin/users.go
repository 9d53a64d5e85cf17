package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ces/internal/store"
)

type usersData struct {
	Users []store.AdminUser
	Roles []Role
	// Self is the signed-in user, whose own role and state only another
	// admin may change.
	Self int64
	// Username and NewRole refill the create form after a refusal.
	Username string
	NewRole  Role
}

func (c *Console) users(ctx *fiber.Ctx) error {
	return c.renderUsers(ctx, fiber.StatusOK, "", usersData{NewRole: Viewer})
}

// renderUsers lists the console users with their roles and states.
func (c *Console) renderUsers(ctx *fiber.Ctx, status int, errMsg string, d usersData) error {
	var err error
	if d.Users, err = c.d.Stores.Console.AdminUsers(ctx.UserContext()); err != nil {
		return err
	}
	d.Roles = Roles
	d.Self = c.session(ctx).UserID
	return c.render(ctx, status, "users", view{Title: "Users", Error: errMsg, Data: d})
}

// usernamePattern is what admin_users' CHECK constraint accepts.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// CheckUsername says why a new console username is not acceptable, or nil.
func CheckUsername(u string) error {
	if !usernamePattern.MatchString(u) {
		return fmt.Errorf("a username is 1 to 64 letters, digits or . _ @ -, not %q", u)
	}
	return nil
}

// CheckNewPassword says why a new console password is not acceptable, or nil.
func CheckNewPassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	}
	return nil
}

// createUser makes a console user with a role and an initial password.
func (c *Console) createUser(ctx *fiber.Ctx) error {
	username := strings.Clone(strings.TrimSpace(ctx.FormValue("username")))
	role, rerr := ParseRole(ctx.FormValue("role"))
	form := usersData{Username: username, NewRole: role}
	refused := func(status int, msg string) error { return c.renderUsers(ctx, status, msg, form) }
	if err := errors.Join(CheckUsername(username), CheckNewPassword(ctx.FormValue("password")), rerr); err != nil {
		return refused(fiber.StatusBadRequest, "create user: "+err.Error())
	}
	hash, err := HashPassword(ctx.FormValue("password"))
	if err != nil {
		return err
	}
	reason, by := formReason(ctx), c.user(ctx)
	return c.act(ctx, "user-create", "user "+username+" as "+string(role), reason, "/admin/users", func(cx context.Context) (string, error) {
		_, err := c.d.Stores.Console.CreateAdminUser(cx, store.NewAdminUser{Username: username, PasswordHash: hash, Role: string(role), By: by, Reason: reason})
		return "", err
	}, refused)
}

// onUser runs a change of the user the path names, made by another admin.
func (c *Console) onUser(ctx *fiber.Ctx, action, change string, do func(cx context.Context, id int64, by, reason string) error) error {
	id, err := strconv.ParseInt(ctx.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	refused := func(status int, msg string) error { return c.renderUsers(ctx, status, msg, usersData{NewRole: Viewer}) }
	if id == c.session(ctx).UserID {
		return refused(fiber.StatusForbidden, action+": you cannot change your own role or disable yourself; ask another admin. Nothing was done.")
	}
	target := fmt.Sprintf("user %d", id)
	switch u, err := c.d.Stores.Console.AdminUser(ctx.UserContext(), id); {
	case err == nil:
		target = "user " + u.Username
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	reason, by := formReason(ctx), c.user(ctx)
	return c.act(ctx, action, strings.TrimSpace(target+" "+change), reason, "/admin/users", func(cx context.Context) (string, error) {
		return "", do(cx, id, by, reason)
	}, refused)
}

// setRole gives a user another role, effective on the user's next request.
func (c *Console) setRole(ctx *fiber.Ctx) error {
	role, err := ParseRole(ctx.FormValue("role"))
	if err != nil {
		return c.renderUsers(ctx, fiber.StatusBadRequest, "user-role: "+err.Error(), usersData{NewRole: Viewer})
	}
	return c.onUser(ctx, "user-role", "to "+string(role), func(cx context.Context, id int64, by, reason string) error {
		return c.d.Stores.Console.SetAdminRole(cx, id, string(role), by, reason)
	})
}

// setDisabled disables a user, ending its sessions at once, or enables it.
func (c *Console) setDisabled(disable bool) fiber.Handler {
	action := "user-enable"
	if disable {
		action = "user-disable"
	}
	return func(ctx *fiber.Ctx) error {
		return c.onUser(ctx, action, "", func(cx context.Context, id int64, by, reason string) error {
			return c.d.Stores.Console.SetAdminDisabled(cx, id, disable, by, reason)
		})
	}
}
