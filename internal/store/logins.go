package store

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
// be allowed to create roles. Passwords never travel: the SQL carries a
// SCRAM-SHA-256 verifier made here, which PostgreSQL stores as it is, so a
// server that logs statements logs no password.
func EnsureLogins(ctx context.Context, db *bun.DB, logins []Login, l Limits) error {
	for _, lg := range logins {
		if lg.Name == "" || lg.Role == "" || lg.Password == "" {
			return fmt.Errorf("store: login %q: name, role and password are all required", lg.Name)
		}
		const attrs = " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT PASSWORD ?"
		secret, err := scramVerifier(lg.Password)
		if err != nil {
			return fmt.Errorf("store: login %s: %w", lg.Name, err)
		}
		_, err = db.ExecContext(ctx, "CREATE ROLE ?"+attrs, bun.Ident(lg.Name), secret)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object: it exists
			_, err = db.ExecContext(ctx, "ALTER ROLE ?"+attrs, bun.Ident(lg.Name), secret)
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

// scramIterations is PostgreSQL's own default (scram_iterations).
const scramIterations = 4096

// scramVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802 and 7677, in PostgreSQL's text form):
// SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey. PostgreSQL applies
// SASLprep to a password before hashing; for printable ASCII that is the
// identity, so other passwords are refused rather than hashed differently.
// Written here because neither pgx nor bun exposes it; the primitives are
// the standard library's.
func scramVerifier(password string) (string, error) {
	for i := 0; i < len(password); i++ {
		if password[i] < 0x20 || password[i] > 0x7e {
			return "", errors.New("the password must be printable ASCII")
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return scramVerifierWith(password, salt, scramIterations)
}

func scramVerifierWith(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}
