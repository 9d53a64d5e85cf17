package store

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// Process roles the migrations create. They are server-wide (roles
// belong to the PostgreSQL server, not to a database) and granted in every
// CES database there; the logins are per database.
const (
	APIRole    = "ces_api_role"
	WorkerRole = "ces_worker_role"
)

// LegacyAPILogin and LegacyWorkerLogin are the server-wide logins starter
// migrate made before logins were per database: one pair for every CES
// database on the server, so migrating one reset the passwords the others
// ran with, and each could connect to the others' databases.
const (
	LegacyAPILogin    = "ces_api"
	LegacyWorkerLogin = "ces_worker"
)

// maxIdentifier is PostgreSQL's longest name in bytes (NAMEDATALEN - 1);
// a longer one is silently truncated, so two long names could meet.
const maxIdentifier = 63

// DatabaseLogins returns the default names of the API's and the worker's
// logins for database: ces_api_<database> and ces_worker_<database>. A
// database name that is not already lower-case letters, digits and
// underscores, or that would make a name longer than PostgreSQL's 63
// bytes, is folded to those characters and cut short, and the first 8 hex
// digits of its SHA-256 are appended, so that two databases never share a
// login (CES and ces, or two long names with one prefix).
func DatabaseLogins(database string) (api, worker string) {
	return loginName("ces_api_", database), loginName("ces_worker_", database)
}

func loginName(prefix, database string) string {
	clean := []byte(strings.ToLower(database))
	for i, c := range clean {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			clean[i] = '_'
		}
	}
	if string(clean) == database && len(prefix)+len(clean) <= maxIdentifier {
		return prefix + database
	}
	sum := sha256.Sum256([]byte(database))
	suffix := "_" + hex.EncodeToString(sum[:4])
	if room := maxIdentifier - len(prefix) - len(suffix); len(clean) > room {
		clean = clean[:room]
	}
	return prefix + string(clean) + suffix
}

// Login is a process's database login: a member of its role.
type Login struct {
	Name, Role, Password string
}

// ErrLoginUnfit is returned by EnsureLogins for a name it must not take
// over: a process role, the migrating login itself, a role with powers
// a process login must not have, or a login another database lets connect
// (logins are per database).
var ErrLoginUnfit = errors.New("store: the login name is unfit")

// EnsureLogins creates each login, or brings an existing one back to what
// CES needs: its password, membership in its role, no superuser or
// role-creating powers, and the statement and lock timeouts of l as its
// defaults, so every statement it runs is bounded even where a session
// forgets to set them. It runs as the owner (starter migrate), which must
// be allowed to create roles. Passwords never travel: the SQL carries a
// SCRAM-SHA-256 verifier made here, which PostgreSQL stores as it is, so a
// server that logs statements logs no password. Each login serves the
// current database alone: see RestrictConnect.
func EnsureLogins(ctx context.Context, db *bun.DB, logins []Login, l Limits) error {
	for _, lg := range logins {
		if lg.Name == "" || lg.Role == "" || lg.Password == "" {
			return fmt.Errorf("store: login %q: name, role and password are all required", lg.Name)
		}
		if err := checkLoginFit(ctx, db, lg.Name); err != nil {
			return err
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

// checkLoginFit refuses to make name a process login when ALTER ROLE
// would strip an existing role of powers someone relies on, or when the
// login already serves another database: its password is that database's
// processes' to keep.
func checkLoginFit(ctx context.Context, db *bun.DB, name string) error {
	if name == APIRole || name == WorkerRole || len(name) > maxIdentifier {
		return fmt.Errorf("%w: %q is a process role or longer than %d bytes", ErrLoginUnfit, name, maxIdentifier)
	}
	var why []string
	err := db.NewRaw(`WITH r AS (SELECT * FROM pg_roles WHERE rolname = ?),
		elsewhere AS (SELECT string_agg(d.datname, ', ' ORDER BY d.datname) AS names
			FROM r, pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
			WHERE a.grantee = r.oid AND a.privilege_type = 'CONNECT' AND d.datname <> current_database())
		SELECT v.why FROM r, elsewhere, LATERAL (VALUES
			(r.rolname = current_user, 'it is the login migrating'),
			(r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls,
				'it is a superuser or may create roles or databases, replicate or bypass row security'),
			(EXISTS (SELECT FROM pg_database d WHERE d.datdba = r.oid), 'it owns a database'),
			(EXISTS (SELECT FROM pg_class c WHERE c.relowner = r.oid), 'it owns tables here'),
			(elsewhere.names IS NOT NULL, 'it is the login of database ' || elsewhere.names || ' (it may connect there)')
		) AS v(unfit, why) WHERE v.unfit`, name).Scan(ctx, &why)
	if err != nil {
		return fmt.Errorf("store: login %s: check the name: %w", name, err)
	}
	if len(why) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrLoginUnfit, name, strings.Join(why, "; "))
	}
	return nil
}

// ErrConnectNotRestricted is returned by RestrictConnect when the login
// migrating may not change who connects to the database: it neither owns
// the database nor is a superuser.
var ErrConnectNotRestricted = errors.New("store: every login on the server may still connect to this database")

// RestrictConnect makes logins the only ones, besides the database's
// owner and superusers, that may connect to the current database: CONNECT
// is revoked from PUBLIC (every role on the server has it by default) and
// from retire, and granted to logins and to the login migrating. Roles are
// server-wide and the process roles hold their grants in every CES
// database on the server, so this is what keeps the logins of another CES
// database out of this one. All
// of it commits together, so a failure never leaves the database closed
// to its own logins.
func RestrictConnect(ctx context.Context, db *bun.DB, logins, retire []string) error {
	var database string
	var may bool
	if err := db.QueryRowContext(ctx, "SELECT current_database(), has_database_privilege(current_database(), 'CONNECT WITH GRANT OPTION')").Scan(&database, &may); err != nil {
		return fmt.Errorf("store: restrict connect: %w", err)
	}
	if !may {
		return fmt.Errorf("%w (%s): only its owner or a superuser may restrict CONNECT", ErrConnectNotRestricted, database)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		dbID := bun.Ident(database)
		if _, err := tx.ExecContext(ctx, "REVOKE CONNECT ON DATABASE ? FROM PUBLIC", dbID); err != nil {
			return fmt.Errorf("store: restrict connect: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "GRANT CONNECT ON DATABASE ? TO CURRENT_USER", dbID); err != nil {
			return fmt.Errorf("store: restrict connect: %w", err)
		}
		for _, name := range logins {
			if _, err := tx.ExecContext(ctx, "GRANT CONNECT ON DATABASE ? TO ?", dbID, bun.Ident(name)); err != nil {
				return fmt.Errorf("store: restrict connect: grant %s: %w", name, err)
			}
		}
		for _, name := range retire {
			if _, err := tx.ExecContext(ctx, "REVOKE CONNECT ON DATABASE ? FROM ?", dbID, bun.Ident(name)); err != nil {
				return fmt.Errorf("store: restrict connect: revoke %s: %w", name, err)
			}
		}
		return nil
	})
}

// MayConnect returns those of names that are roles that may connect to
// the current database now.
func MayConnect(ctx context.Context, db *bun.DB, names ...string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var out []string
	err := db.NewRaw("SELECT rolname FROM pg_roles WHERE rolname IN (?) AND has_database_privilege(oid, current_database(), 'CONNECT') ORDER BY rolname",
		bun.In(names)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: who may connect: %w", err)
	}
	return out, nil
}

// CurrentDatabase is the name of the database db is connected to, which
// the default login names derive from (see DatabaseLogins).
func CurrentDatabase(ctx context.Context, db *bun.DB) (string, error) {
	var name string
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return "", fmt.Errorf("store: current database: %w", err)
	}
	return name, nil
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
// run as their own logins (see DatabaseLogins), never as the owner.
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
		return fmt.Errorf("%w: %s %s; run as the process's own login (starter migrate makes them; starter db-logins names them; see the README)",
			ErrPrivileged, user, strings.Join(why, " and "))
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
