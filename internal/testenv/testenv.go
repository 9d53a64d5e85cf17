// Package testenv gives integration tests their real services: a fresh
// PostgreSQL database with the CES schema, a private Redis key space, and
// a Temporal client. The test tooling (make test, .ci/run) starts the
// services and exports their addresses; a test run without them skips
// these tests with a message, except under CI, where it fails.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"ces/internal/cache"
	"ces/internal/store"
	"ces/migrations"
)

// Environment variables the test tooling sets.
const (
	EnvDatabaseURL     = "CES_TEST_DATABASE_URL"
	EnvRedisURL        = "CES_TEST_REDIS_URL"
	EnvTemporalAddress = "CES_TEST_TEMPORAL_ADDRESS"
)

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		unavailable(t, "%s is not set (run the tests with `make test`)", name)
	}
	return v
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("integration service unavailable under CI: %s", msg)
	}
	t.Skipf("integration service unavailable: %s", msg)
}

// Suffix returns a short random string to keep tests' names apart.
func Suffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// DatabaseURL creates an empty database for the test, migrated to the
// current schema, drops it when the test ends, and returns its URL.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	dsn := EmptyDatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, dsn, 4)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	defer db.Close()
	if _, err := migrations.Run(ctx, db, 10*time.Second); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return dsn
}

// EmptyDatabaseURL creates a database for the test without any schema
// (a test of a migration applies the ones before it), drops it when the
// test ends, and returns its URL.
func EmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	admin := need(t, EnvDatabaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adb, err := store.Open(ctx, admin, 2)
	if err != nil {
		unavailable(t, "%v", err)
	}
	name := "ces_test_" + Suffix()
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
		// The logins starter migrate makes for it (the README test's make up)
		// are the database's own: they go with it.
		api, worker := store.DatabaseLogins(name)
		if _, err := adb.ExecContext(ctx, "DROP ROLE IF EXISTS "+api+", "+worker); err != nil {
			t.Logf("drop the test database's logins: %v", err)
		}
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvDatabaseURL)
	}
	u.Path = "/" + name
	return u.String()
}

// DB returns a migrated, empty database for the test.
func DB(t testing.TB) *bun.DB {
	t.Helper()
	dsn := DatabaseURL(t)
	db, err := store.Open(context.Background(), dsn, 8)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TracedDB is DB with tracer seeing every statement sent.
func TracedDB(t testing.TB, tracer pgx.QueryTracer) *bun.DB {
	t.Helper()
	db, err := store.OpenTraced(context.Background(), DatabaseURL(t), 8, tracer)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// RedisURL returns the Redis URL of the test services.
func RedisURL(t testing.TB) string {
	t.Helper()
	return need(t, EnvRedisURL)
}

// Redis returns a Redis client and a key prefix of the test's own; keys
// under the prefix are deleted when the test ends.
func Redis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb, err := cache.NewClient(cache.Conn{URL: RedisURL(t)}, cache.WorkerTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		unavailable(t, "redis: %v", err)
	}
	prefix := "ces-test-" + Suffix() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// TemporalAddress returns the dev server's host:port.
func TemporalAddress(t testing.TB) string {
	t.Helper()
	return need(t, EnvTemporalAddress)
}

// Temporal returns a client of the dev server's default namespace.
func Temporal(t testing.TB) client.Client {
	t.Helper()
	addr := TemporalAddress(t)
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		unavailable(t, "temporal at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// TaskQueue returns a task queue name of the test's own.
func TaskQueue(t testing.TB) string {
	return "ces-test-" + strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())) + "-" + Suffix()
}

// quietLogger drops the SDK's debug chatter from test output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(msg string, kv ...any) {
}
func (quietLogger) Error(msg string, kv ...any) {
}
