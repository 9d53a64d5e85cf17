package store_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"ces/internal/store"
	"ces/internal/testenv"
	"ces/migrations"
)

// dbBefore opens a pool of conns on a new empty database, closed when
// the test ends, with the migrations named before first applied, as a
// database created by an earlier release has them.
func dbBefore(t testing.TB, first string, conns int) *bun.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testenv.EmptyDatabaseURL(t), conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	before := fstest.MapFS{}
	err = fs.WalkDir(migrations.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path >= first {
			return err
		}
		b, err := fs.ReadFile(migrations.Files, path)
		before[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	old := migrate.NewMigrations()
	if err := old.Discover(before); err != nil {
		t.Fatal(err)
	}
	m := migrate.NewMigrator(db, old, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
