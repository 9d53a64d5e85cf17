package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// Process roles the migrations create, and the logins the API and the
// worker connect as (members of them).
const (
	APIRole     = "ces_api_role"
	WorkerRole  = "ces_worker_role"
	APILogin    = "ces_api"
	WorkerLogin = "ces_worker"
)

// Login is a process's database login: a member of its role.
type Login struct {
	Name, Role, Password string
}

// EnsureLogins creates each login, or brings an existing one back to what
// CES needs: its password, membership in its role only, no superuser or
// role-creating powers, and the statement and lock timeouts of l as its
// defaults, so every statement it runs is bounded even where a session
// forgets to set them. It runs as the owner (starter migrate), which must
// be allowed to create roles. Passwords travel as literals in the SQL
// text: keep statement logging off on the server while it runs.
func EnsureLogins(ctx context.Context, db *bun.DB, logins []Login, l Limits) error {
	for _, lg := range logins {
		if lg.Name == "" || lg.Role == "" || lg.Password == "" {
			return fmt.Errorf("store: login %q: name, role and password are all required", lg.Name)
		}
		const attrs = " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT PASSWORD ?"
		_, err := db.ExecContext(ctx, "CREATE ROLE ?"+attrs, bun.Ident(lg.Name), lg.Password)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object: it exists
			_, err = db.ExecContext(ctx, "ALTER ROLE ?"+attrs, bun.Ident(lg.Name), lg.Password)
		}
		if err != nil {
			return fmt.Errorf("store: login %s: %w", lg.Name, errWithoutSecret(err, lg.Password))
		}
		if _, err := db.ExecContext(ctx, "GRANT ? TO ?", bun.Ident(lg.Role), bun.Ident(lg.Name)); err != nil {
			return fmt.Errorf("store: login %s: %w", lg.Name, errWithoutSecret(err, lg.Password))
		}
		var defaults []string
		if l.Statement > 0 {
			defaults = append(defaults, "statement_timeout = "+strconv.FormatInt(l.Statement.Milliseconds(), 10))
		}
		if l.Lock > 0 {
			defaults = append(defaults, "lock_timeout = "+strconv.FormatInt(l.Lock.Milliseconds(), 10))
		}
		for _, d := range defaults {
			if _, err := db.ExecContext(ctx, "ALTER ROLE ? SET "+d, bun.Ident(lg.Name)); err != nil {
				return fmt.Errorf("store: login %s: %w", lg.Name, errWithoutSecret(err, lg.Password))
			}
		}
	}
	return nil
}

// errWithoutSecret keeps PostgreSQL's message and code but nothing of
// the statement, which holds the password, and masks the password in any
// other error.
func errWithoutSecret(err error, password string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "***"))
}

// ErrPrivileged is returned by CheckLeastPrivilege for a login that could
// rewrite history: a superuser, one that bypasses row security, or the
// owner of the tables (or a member of the owner's role).
var ErrPrivileged = errors.New("store: the database login is privileged")

// CheckLeastPrivilege refuses the login db connects as when it could
// switch the triggers off or rewrite the tables: the API and the worker
// run as their own logins (ces_api, ces_worker), never as the owner.
func CheckLeastPrivilege(ctx context.Context, db *bun.DB) error {
	var user string
	var super, bypass, owner bool
	err := db.QueryRowContext(ctx, `SELECT current_user, r.rolsuper, r.rolbypassrls,
		EXISTS (SELECT FROM pg_tables t WHERE t.schemaname = current_schema()
			AND t.tablename IN ('exchange_rates', 'conversion_audits', 'audit_seals')
			AND pg_has_role(current_user, t.tableowner, 'MEMBER'))
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &bypass, &owner)
	if err != nil {
		return fmt.Errorf("store: check the login's privileges: %w", err)
	}
	var why []string
	if super {
		why = append(why, "is a superuser")
	}
	if bypass {
		why = append(why, "bypasses row security")
	}
	if owner {
		why = append(why, "owns the CES tables")
	}
	if len(why) > 0 {
		return fmt.Errorf("%w: %s %s; run as the process's own login (%s, %s: starter migrate makes them, see the README)",
			ErrPrivileged, user, strings.Join(why, " and "), APILogin, WorkerLogin)
	}
	return nil
}
