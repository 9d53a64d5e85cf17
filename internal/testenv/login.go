package testenv

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/store"
)

// Login makes a login of role (store.APIRole, store.WorkerRole) in the
// database dsn, named prefix plus a random suffix and dropped when the
// test ends, and returns dsn as that login: the processes refuse the
// tables' owner's.
func Login(t testing.TB, owner *bun.DB, dsn, prefix, role, password string) *url.URL {
	t.Helper()
	login := store.Login{Name: prefix + Suffix(), Role: role, Password: password}
	if err := store.EnsureLogins(context.Background(), owner, []store.Login{login}, store.Limits{Statement: 30 * time.Second, Lock: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.ExecContext(context.Background(), "DROP OWNED BY "+login.Name+"; DROP ROLE IF EXISTS "+login.Name)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(login.Name, login.Password)
	return u
}

// RepoRoot returns the repository's root: the nearest directory above the
// test's that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Unavailable skips the test because a service it needs is missing, or
// fails it under CI, where the test tooling must have started everything.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	unavailable(t, format, args...)
}
