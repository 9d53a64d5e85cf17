package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ErrNotFound is returned when an admin record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrUserExists is returned when an admin username is taken.
var ErrUserExists = errors.New("store: admin user already exists")

// ErrLastAdmin is returned by a user change that would leave the console
// without an enabled admin, who alone can make or restore one.
var ErrLastAdmin = errors.New("store: the change would leave no enabled admin")

// The console roles, as admin_user_changes stores them (its CHECK
// constraint lists the same).
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

type adminUser struct {
	bun.BaseModel `bun:"table:admin_users"`
	ID            int64     `bun:"id,pk,autoincrement"`
	Username      string    `bun:"username"`
	PasswordHash  string    `bun:"password_hash"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:now()"`
}

// userChangeRow is one row of admin_user_changes: a user's role and state
// from At on, until a newer row.
type userChangeRow struct {
	bun.BaseModel `bun:"table:admin_user_changes"`
	ID            int64     `bun:"id,pk,autoincrement"`
	UserID        int64     `bun:"user_id"`
	At            time.Time `bun:"at,nullzero,default:now()"`
	Role          string    `bun:"role"`
	Disabled      bool      `bun:"disabled"`
	ChangedBy     string    `bun:"changed_by"`
	Reason        string    `bun:"reason"`
}

// AdminUser is a console user as it stands now: its role and state are
// those of its newest change. Role is empty for a user no change names,
// who has no power and cannot sign in.
type AdminUser struct {
	ID        int64
	Username  string
	CreatedAt time.Time
	Role      string
	Disabled  bool
	// ChangedAt, ChangedBy and Reason describe the newest change.
	ChangedAt time.Time
	ChangedBy string
	Reason    string
}

// NewAdminUser is a console user to create.
type NewAdminUser struct {
	Username     string
	PasswordHash string
	Role         string
	// By and Reason are recorded with the user's first change.
	By, Reason string
}

// userStateColumns are a user's columns with those of its newest change
// (an empty role when there is none), and userStateFrom where they come
// from: the one place that says how a user's current state is found.
const (
	userStateColumns = `u.id, u.username, u.created_at,
	coalesce(c.role, ''), coalesce(c.disabled, false), coalesce(c.at, u.created_at), coalesce(c.changed_by, ''), coalesce(c.reason, '')`
	userStateFrom = ` FROM admin_users u LEFT JOIN LATERAL (
		SELECT role, disabled, at, changed_by, reason FROM admin_user_changes
		WHERE user_id = u.id ORDER BY id DESC LIMIT 1) c ON true`
)

// scanUser reads userStateColumns, then into extra any columns after them.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (AdminUser, error) {
	var u AdminUser
	err := row.Scan(append([]any{&u.ID, &u.Username, &u.CreatedAt, &u.Role, &u.Disabled, &u.ChangedAt, &u.ChangedBy, &u.Reason}, extra...)...)
	u.CreatedAt, u.ChangedAt = u.CreatedAt.UTC(), u.ChangedAt.UTC()
	return u, err
}

// CreateAdminUser stores a new console user and its first change (its
// role, enabled), in one transaction.
func (s *Console) CreateAdminUser(ctx context.Context, n NewAdminUser) (AdminUser, error) {
	u := adminUser{Username: n.Username, PasswordHash: n.PasswordHash}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&u).ExcludeColumn("id", "created_at").Returning("id, created_at").Exec(ctx); err != nil {
			if strings.Contains(err.Error(), "admin_users_username_key") {
				return ErrUserExists
			}
			return fmt.Errorf("store: create admin user: %w", err)
		}
		c := userChangeRow{UserID: u.ID, Role: n.Role, ChangedBy: n.By, Reason: strings.TrimSpace(n.Reason)}
		if _, err := tx.NewInsert().Model(&c).ExcludeColumn("id", "at").Exec(ctx); err != nil {
			return fmt.Errorf("store: create admin user: first change: %w", err)
		}
		return nil
	})
	if err != nil {
		return AdminUser{}, err
	}
	return AdminUser{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt.UTC(), Role: n.Role,
		ChangedAt: u.CreatedAt.UTC(), ChangedBy: n.By, Reason: strings.TrimSpace(n.Reason)}, nil
}

// AdminCredentials returns a console user as it stands now and its
// password hash, for sign-in.
func (s *Console) AdminCredentials(ctx context.Context, username string) (AdminUser, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userStateColumns+", u.password_hash"+userStateFrom+" WHERE u.username = ?", username), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return AdminUser{}, "", ErrNotFound
	}
	if err != nil {
		return AdminUser{}, "", fmt.Errorf("store: admin user: %w", err)
	}
	return u, hash, nil
}

// AdminUser returns one console user as it stands now.
func (s *Console) AdminUser(ctx context.Context, id int64) (AdminUser, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, "SELECT "+userStateColumns+userStateFrom+" WHERE u.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return AdminUser{}, ErrNotFound
	}
	if err != nil {
		return AdminUser{}, fmt.Errorf("store: admin user %d: %w", id, err)
	}
	return u, nil
}

// AdminUsers returns every console user as it stands now, by username.
func (s *Console) AdminUsers(ctx context.Context) ([]AdminUser, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+userStateColumns+userStateFrom+" ORDER BY u.username")
	if err != nil {
		return nil, fmt.Errorf("store: admin users: %w", err)
	}
	defer rows.Close()
	var out []AdminUser
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: admin users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: admin users: %w", err)
	}
	return out, nil
}

// userChangesLock is the transaction-scoped advisory lock every user
// change takes, so that two admins demoting each other at once cannot
// both pass the check that an enabled admin remains.
const userChangesLock int64 = 0x63657375736572 // "cesuser"

// SetAdminRole gives a console user role from now on. It takes effect on
// the user's next request: sessions read the current role.
func (s *Console) SetAdminRole(ctx context.Context, id int64, role, by, reason string) error {
	return s.changeAdminUser(ctx, id, by, reason, func(c *userChangeRow) { c.Role = role })
}

// SetAdminDisabled disables a console user, ending all its sessions in the
// same transaction, or enables it again (it then signs in anew).
func (s *Console) SetAdminDisabled(ctx context.Context, id int64, disabled bool, by, reason string) error {
	return s.changeAdminUser(ctx, id, by, reason, func(c *userChangeRow) { c.Disabled = disabled })
}

// changeAdminUser appends a change of user id, made by edit from its
// current state. A reason is required. It refuses (ErrLastAdmin, nothing
// written) a change that takes away the last enabled admin.
func (s *Console) changeAdminUser(ctx context.Context, id int64, by, reason string, edit func(*userChangeRow)) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ErrReasonRequired
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", userChangesLock); err != nil {
			return fmt.Errorf("store: change admin user %d: lock: %w", id, err)
		}
		before, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userStateColumns+userStateFrom+" WHERE u.id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: change admin user %d: %w", id, err)
		}
		c := userChangeRow{UserID: id, Role: before.Role, Disabled: before.Disabled, ChangedBy: by, Reason: reason}
		edit(&c)
		if c.Role == "" {
			return fmt.Errorf("store: change admin user %d: the user has no role yet: set one", id)
		}
		if _, err := tx.NewInsert().Model(&c).ExcludeColumn("id", "at").Exec(ctx); err != nil {
			return fmt.Errorf("store: change admin user %d: %w", id, err)
		}
		if c.Disabled {
			if _, err := tx.ExecContext(ctx, "DELETE FROM admin_sessions WHERE user_id = ?", id); err != nil {
				return fmt.Errorf("store: change admin user %d: end sessions: %w", id, err)
			}
		}
		wasAdmin := before.Role == RoleAdmin && !before.Disabled
		if !wasAdmin || (c.Role == RoleAdmin && !c.Disabled) {
			return nil
		}
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admin_users u
			JOIN LATERAL (SELECT role, disabled FROM admin_user_changes WHERE user_id = u.id ORDER BY id DESC LIMIT 1) c ON true
			WHERE c.role = ? AND NOT c.disabled`, RoleAdmin).Scan(&admins); err != nil {
			return fmt.Errorf("store: change admin user %d: count admins: %w", id, err)
		}
		if admins == 0 {
			return ErrLastAdmin
		}
		return nil
	})
}

// Session is a signed-in console user, with the role and state the user
// has now, not when it signed in.
type Session struct {
	UserID    int64
	Username  string
	Role      string
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession stores a session under the hash of its token.
func (s *Console) CreateSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error {
	_, err := s.db.NewRaw(`INSERT INTO admin_sessions (token_sha256, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, now(), ?)`,
		tokenHash, userID, csrf, expires.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByToken returns the session with that token hash unexpired at
// now, of a user enabled now, with the user's current role. A user
// disabled, or without a role, has no session, whatever rows remain.
func (s *Console) SessionByToken(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var out Session
	err := s.db.NewRaw(`SELECT u.id, u.username, c.role, s.csrf_token, s.expires_at
		FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id
		JOIN LATERAL (SELECT role, disabled FROM admin_user_changes WHERE user_id = u.id ORDER BY id DESC LIMIT 1) c ON true
		WHERE s.token_sha256 = ? AND s.expires_at > ? AND NOT c.disabled`, tokenHash, now.UTC()).
		Scan(ctx, &out.UserID, &out.Username, &out.Role, &out.CSRFToken, &out.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	return out, nil
}

// DeleteSession signs a session out, and drops those expired at now.
func (s *Console) DeleteSession(ctx context.Context, tokenHash string, now time.Time) error {
	_, err := s.db.NewRaw(`DELETE FROM admin_sessions WHERE token_sha256 = ? OR expires_at < ?`, tokenHash, now.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
