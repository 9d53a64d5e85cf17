// Package store is the only package that speaks SQL: it opens the bun
// database over pgx and reads and writes the CES tables.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Open connects to PostgreSQL at url with a pool of at most maxConns
// connections and checks that the server answers. Errors never quote url,
// since it may carry a password (pgx's own connect errors name only the
// host, user and database).
func Open(ctx context.Context, url string, maxConns int) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: DATABASE_URL is not a valid PostgreSQL URL")
	}
	// bun writes every value into the SQL text itself, so each statement is
	// new to pgx: with the default extended protocol that costs a Parse and
	// Describe round trip per query and fills the statement cache with
	// one-off texts. The simple protocol sends each statement once.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return db, nil
}

// Store reads and writes CES data through one bun.DB.
type Store struct {
	db *bun.DB
}

// New returns a Store over db.
func New(db *bun.DB) *Store { return &Store{db: db} }

// DB returns the underlying database, for migrations and health checks.
func (s *Store) DB() *bun.DB { return s.db }

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
