package admin

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"ces/internal/clientaddr"
	"ces/internal/store"
)

// Role is what a console user may do. Every role reads every page.
type Role string

// The console roles, from the least powerful.
const (
	// Viewer reads every page and acts on nothing.
	Viewer Role = store.RoleViewer
	// Operator also runs the operations: trigger, pause and resume
	// ingestion, release and reject held rates, suspend and resume pairs,
	// verify the audit log.
	Operator Role = store.RoleOperator
	// Admin also mints and revokes API keys and manages console users.
	Admin Role = store.RoleAdmin
)

// Roles lists the roles from the least powerful.
var Roles = []Role{Viewer, Operator, Admin}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a role (want viewer, operator or admin)", s)
}

// power is a kind of console action, and the least role that has it.
type power struct {
	least Role
	what  string // for the refusal: "<what> needs the <least> role"
}

var (
	// operate is every operational action.
	operate = power{Operator, "this action"}
	// manage is API keys and console users.
	manage = power{Admin, "managing API keys and console users"}
)

// rank orders the roles; an unknown one (never stored: a CHECK constraint
// lists them) ranks below viewer.
func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

func (r Role) has(p power) bool { return r.rank() >= p.least.rank() }

// CanOperate reports whether the role may run the operations.
func (r Role) CanOperate() bool { return r.has(operate) }

// CanManage reports whether the role may manage API keys and users.
func (r Role) CanManage() bool { return r.has(manage) }

// allow refuses, 403 and nothing written, a request whose user lacks p.
// It reads the role of the session, which the store reads anew on every
// request: a user demoted a moment ago has lost the power already.
func (c *Console) allow(p power) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		s := c.session(ctx)
		if role := Role(s.Role); !role.has(p) {
			c.d.Log.WarnContext(ctx.UserContext(), "admin action refused: role lacks the power",
				"username", s.Username, "role", s.Role, "path", ctx.Path(), "client", clientaddr.Of(ctx))
			return ctx.Status(fiber.StatusForbidden).SendString(fmt.Sprintf(
				"forbidden: %s has the %s role; %s needs the %s role or above. Nothing was done; ask an admin.",
				s.Username, role, p.what, p.least))
		}
		return ctx.Next()
	}
}
