package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"ces/internal/store"
)

// loadHistory adds n rate rows older than anything stored (163 quotes per
// publication, one publication an hour back in time) and n audit rows, in
// set-based INSERTs, then refreshes the planner's statistics.
func loadHistory(ctx context.Context, db *bun.DB, n int, legID int64) error {
	start := time.Now()
	if _, err := db.ExecContext(ctx, `
		INSERT INTO exchange_rates (provider, base, quote, rate, as_of, fetched_at, workflow_id, run_id, payload_sha256)
		SELECT r.provider, r.base, r.quote, r.rate * (1 + (g % 97) / 10000.0), r.as_of - make_interval(hours => g), r.fetched_at,
		       'bench-history', 'bench', r.payload_sha256
		FROM generate_series(1, ceil(?::numeric / 163)::int) g
		CROSS JOIN (SELECT DISTINCT ON (quote) * FROM exchange_rates ORDER BY quote, as_of) r
		LIMIT ?`, n, n); err != nil {
		return fmt.Errorf("load rate history: %w", err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO conversion_audits (id, created_at, amount, from_currency, to_currency, mid_rate, margin, applied_rate,
			converted_amount, rounding, provider, as_of, leg1_rate_id, request_id, request_sha256, client_address, hash)
		SELECT gen_random_uuid(), now() - make_interval(secs => g), g % 100000 + 1, 'USD', 'NGN', 418.065024, 0.005, 415.97469888,
			(g % 100000 + 1) * 415.97469888, 'half_even', 'openexchangerates', '2022-09-01T03:00:00Z', ?, 'bench', repeat('a', 64),
			'127.0.0.1', repeat('b', 64)
		FROM generate_series(1, ?) g`, legID, n); err != nil {
		return fmt.Errorf("load audit history: %w", err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE exchange_rates; ANALYZE conversion_audits"); err != nil {
		return err
	}
	say("loaded in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	adb, err := store.Open(ctx, adminURL, 2)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("ces_bench_%d", time.Now().UnixNano())
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		return "", nil, err
	}
	drop := func() {
		adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		// The database's own logins go with it (the bench makes the API's).
		api, worker := store.DatabaseLogins(name)
		adb.ExecContext(context.Background(), "DROP ROLE IF EXISTS "+api+", "+worker)
		adb.Close()
	}
	i := strings.LastIndex(adminURL, "/")
	rest := ""
	if q := strings.Index(adminURL[i:], "?"); q >= 0 {
		rest = adminURL[i+q:]
	}
	return adminURL[:i+1] + name + rest, drop, nil
}
