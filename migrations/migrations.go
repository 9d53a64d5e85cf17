// Package migrations holds the CES database schema as embedded SQL files,
// applied in name order by bun's migrator. Files are never edited once
// released: a change to the schema is a new file.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Files holds every migration's SQL (a test of one migration applies
// the ones before it first).
//
//go:embed *.sql
var Files embed.FS

// Migrations is the set of CES migrations.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(Files); err != nil {
		panic(fmt.Sprintf("migrations: discover: %v", err))
	}
}

// Report says what one Run did.
type Report struct {
	Applied []string
	Group   int64
}

// Run applies every pending migration under the migrator's lock. It is
// idempotent: a second run applies nothing and reports an empty group. If
// another migrator holds the lock, Run waits for it up to lockWait.
func Run(ctx context.Context, db *bun.DB, lockWait time.Duration) (Report, error) {
	m := migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return Report{}, fmt.Errorf("migrations: init: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := m.Lock(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return Report{}, fmt.Errorf("migrations: lock (if no migration is running, a crashed one left its lock: delete the row from bun_migration_locks): %w", err)
		}
		select {
		case <-ctx.Done():
			return Report{}, errors.Join(err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer func() {
		// The lock must go even if ctx was cancelled mid-migration.
		_ = m.Unlock(context.WithoutCancel(ctx))
	}()
	var r Report
	for attempt := 1; ; attempt++ {
		group, err := m.Migrate(ctx)
		if group != nil {
			if r.Group == 0 {
				r.Group = group.ID
			}
			done := group.Migrations
			if err != nil && len(done) > 0 {
				done = done[:len(done)-1] // the last one failed
			}
			for _, mig := range done {
				r.Applied = append(r.Applied, mig.Name)
			}
		}
		if err != nil && attempt < 3 && roleDroppedConcurrently(err) {
			continue
		}
		if err != nil {
			return Report{}, fmt.Errorf("migrations: migrate: %w", err)
		}
		return r, nil
	}
}

// roleDroppedConcurrently reports the one failure a second run cures:
// migration 2 checks that the server-wide role ces_app exists and then
// grants to it, and migration 13 of another database on the same server
// may drop the role in between (once nothing refers to it). The grant
// fails ("role … was concurrently dropped", or "role "ces_app" does not
// exist"), its transaction rolls back whole, and running the pending
// migrations again creates the role anew.
func roleDroppedConcurrently(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42704" && // undefined_object
		(strings.Contains(pgErr.Message, "concurrently dropped") || strings.Contains(pgErr.Message, `"ces_app"`))
}
