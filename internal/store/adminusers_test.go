package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ces/internal/store"
	"ces/internal/testenv"
	"ces/migrations"
)

func newUser(t *testing.T, st *store.Store, username, role string) store.AdminUser {
	t.Helper()
	u, err := st.Console.CreateAdminUser(context.Background(), store.NewAdminUser{Username: username, PasswordHash: "$2a$04$x", Role: role, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// countRows counts the rows of table that match where.
func countRows(t *testing.T, st *store.Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(), "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdminUserChanges walks a user through role changes and a disable:
// each change is a new row of the history, the current state is the
// newest, disabling ends every session in the same transaction and
// hides any session made afterwards, and no change may leave the console
// without an enabled admin.
func TestAdminUserChanges(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	now := time.Now()
	boss := newUser(t, st, "boss", store.RoleAdmin)
	ops := newUser(t, st, "ops", store.RoleOperator)
	if _, err := st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "ops", PasswordHash: "x", Role: store.RoleViewer, By: "test"}); !errors.Is(err, store.ErrUserExists) {
		t.Fatalf("a taken username: %v, want ErrUserExists", err)
	}
	if _, err := st.Console.CreateAdminUser(ctx, store.NewAdminUser{Username: "root", PasswordHash: "x", Role: "root", By: "test"}); err == nil {
		t.Fatal("the database accepted the role root")
	}
	if countRows(t, st, "admin_users", "username = 'root'") != 0 {
		t.Fatal("a user whose first change was refused was stored")
	}
	signIn := func(id int64) string {
		token := strings.Repeat("0", 40) + testenv.Suffix() + testenv.Suffix()
		if err := st.Console.CreateSession(ctx, token, id, strings.Repeat("c", 64), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return token
	}
	first := signIn(ops.ID)
	signIn(ops.ID)

	tests := []struct {
		name         string
		change       func() error
		wantErr      error
		wantRole     string
		wantDisabled bool
		wantSessions int
	}{
		{"no reason", func() error { return st.Console.SetAdminRole(ctx, ops.ID, store.RoleViewer, "boss", " ") }, store.ErrReasonRequired, store.RoleOperator, false, 2},
		{"unknown user", func() error { return st.Console.SetAdminRole(ctx, 1<<40, store.RoleViewer, "boss", "x") }, store.ErrNotFound, store.RoleOperator, false, 2},
		{"demote, sessions kept", func() error { return st.Console.SetAdminRole(ctx, ops.ID, store.RoleViewer, "boss", "reads only now") }, nil, store.RoleViewer, false, 2},
		{"disable ends every session", func() error { return st.Console.SetAdminDisabled(ctx, ops.ID, true, "boss", "left the team") }, nil, store.RoleViewer, true, 0},
		{"role change of a disabled user keeps it disabled", func() error {
			return st.Console.SetAdminRole(ctx, ops.ID, store.RoleOperator, "boss", "back next week")
		}, nil, store.RoleOperator, true, 0},
		{"enable", func() error { return st.Console.SetAdminDisabled(ctx, ops.ID, false, "boss", "back") }, nil, store.RoleOperator, false, 0},
		{"the last admin cannot step down", func() error { return st.Console.SetAdminRole(ctx, boss.ID, store.RoleOperator, "boss", "x") }, store.ErrLastAdmin, store.RoleOperator, false, 0},
		{"nor be disabled", func() error { return st.Console.SetAdminDisabled(ctx, boss.ID, true, "ops", "x") }, store.ErrLastAdmin, store.RoleOperator, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := countRows(t, st, "admin_user_changes", "true")
			err := tt.change()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := countRows(t, st, "admin_user_changes", "true"); (err == nil) != (got == rows+1) || (err != nil && got != rows) {
				t.Fatalf("history rows %d -> %d after err %v", rows, got, err)
			}
			u, err := st.Console.AdminUser(ctx, ops.ID)
			if err != nil || u.Role != tt.wantRole || u.Disabled != tt.wantDisabled {
				t.Fatalf("ops = %+v, %v; want %s, disabled %v", u, err, tt.wantRole, tt.wantDisabled)
			}
			if n := countRows(t, st, "admin_sessions", "user_id = ?", ops.ID); n != tt.wantSessions {
				t.Fatalf("ops has %d sessions, want %d", n, tt.wantSessions)
			}
			if b, err := st.Console.AdminUser(ctx, boss.ID); err != nil || b.Role != store.RoleAdmin || b.Disabled {
				t.Fatalf("boss = %+v, %v", b, err)
			}
		})
	}
	if _, err := st.Console.SessionByToken(ctx, first, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session ended by the disable still answers: %v", err)
	}

	// A session made while the user is disabled (a sign-in racing the
	// disable) is not a session: the check reads the current state.
	if err := st.Console.SetAdminDisabled(ctx, ops.ID, true, "boss", "again"); err != nil {
		t.Fatal(err)
	}
	late := signIn(ops.ID)
	if _, err := st.Console.SessionByToken(ctx, late, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a disabled user's session answers: %v", err)
	}
	if err := st.Console.SetAdminDisabled(ctx, ops.ID, false, "boss", "back again"); err != nil {
		t.Fatal(err)
	}
	s, err := st.Console.SessionByToken(ctx, late, now)
	if err != nil || s.UserID != ops.ID || s.Username != "ops" || s.Role != store.RoleOperator {
		t.Fatalf("session after enabling = %+v, %v", s, err)
	}

	// The history is insert-only, even for the owner of the table.
	for _, q := range []string{"UPDATE admin_user_changes SET role = 'admin'", "DELETE FROM admin_user_changes", "TRUNCATE admin_user_changes"} {
		if _, err := st.DB().ExecContext(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	users, err := st.Console.AdminUsers(ctx)
	if err != nil || len(users) != 2 || users[0].Username != "boss" || users[1].Username != "ops" || users[1].ChangedBy != "boss" || users[1].Reason != "back again" {
		t.Fatalf("users = %+v, %v", users, err)
	}
}

// TestAdminsCannotDemoteEachOtherAtOnce: admins all demoting one another
// at the same moment leave exactly one admin, not none.
func TestAdminsCannotDemoteEachOtherAtOnce(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	const n = 16
	var admins []store.AdminUser
	for i := range n {
		admins = append(admins, newUser(t, st, fmt.Sprintf("admin-%d", i), store.RoleAdmin))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = st.Console.SetAdminRole(ctx, admins[(i+1)%n].ID, store.RoleViewer, admins[i].Username, "mutiny")
		})
	}
	close(start)
	wg.Wait()
	refused := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, store.ErrLastAdmin):
			refused++
		case err != nil:
			t.Fatal(err)
		}
	}
	if left := countRows(t, st, "admin_user_changes", "role = 'admin'") - countRows(t, st, "admin_user_changes", "role = 'viewer'"); refused != 1 || left != 1 {
		t.Fatalf("%d demotions refused, %d admins left; want 1 and 1", refused, left)
	}
}

// TestMigrationKeepsExistingUsersAdmins applies the migrations before
// console roles, stores a user as the console did then, and applies the
// rest: the user is an admin, enabled, with the migration named as the
// change, and may sign in.
func TestMigrationKeepsExistingUsersAdmins(t *testing.T) {
	ctx := context.Background()
	const roles = "20261128000012"
	db := dbBefore(t, roles, 2)
	if _, err := db.ExecContext(ctx, "INSERT INTO admin_users (username, password_hash) VALUES ('ops', 'hash')"); err != nil {
		t.Fatal(err)
	}
	r, err := migrations.Run(ctx, db, 10*time.Second)
	if err != nil || len(r.Applied) == 0 || !strings.HasPrefix(r.Applied[0], roles) {
		t.Fatalf("the rest of the migrations: %+v, %v; want %s first", r, err, roles)
	}
	st := store.New(db)
	u, hash, err := st.Console.AdminCredentials(ctx, "ops")
	if err != nil || hash != "hash" || u.Role != store.RoleAdmin || u.Disabled || !strings.HasPrefix(u.ChangedBy, "migration") {
		t.Fatalf("the existing user after the migration: %+v %q, %v", u, hash, err)
	}
}
