// Package migrations holds the CES database schema as embedded SQL files,
// applied in name order by bun's migrator. Files are never edited once
// released: a change to the schema is a new file.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Migrations is the set of CES migrations.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(files); err != nil {
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
	group, err := m.Migrate(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("migrations: migrate: %w", err)
	}
	r := Report{Group: group.ID}
	for _, mig := range group.Migrations {
		r.Applied = append(r.Applied, mig.Name)
	}
	return r, nil
}
