package store_test

import (
	"testing"

	"ces/internal/store"
)

// TestStatementName: spans name a statement by its command and table,
// never by anything bun wrote into the text (values, amounts, ids).
func TestStatementName(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{`SELECT "k"."id", "k"."name" FROM "api_keys" AS "k" WHERE (key_hash = 'ab12')`, "SELECT api_keys"},
		{`INSERT INTO "conversion_audits" ("id", "amount") VALUES ('5b1c', 4321.98)`, "INSERT conversion_audits"},
		{`UPDATE rates SET released = TRUE WHERE id = 7`, "UPDATE rates"},
		{`DELETE FROM "quotes" WHERE expires_at < '2026-01-01'`, "DELETE quotes"},
		{`WITH x AS (SELECT 1) SELECT * FROM x`, "WITH"},
		{`select pg_try_advisory_xact_lock(12345)`, "SELECT"},
		{`SELECT EXISTS (SELECT FROM api_key_revocations WHERE key_id = '1'::uuid)`, "SELECT api_key_revocations"},
		{`SELECT extract(epoch FROM '2026-01-01'::timestamptz)`, "SELECT"},
		{`INSERT INTO 'x'`, "INSERT"},
		{`BEGIN`, "BEGIN"},
		{`'4321.98'`, "SQL"},
		{"", "SQL"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			if got := store.StatementName(tt.sql); got != tt.want {
				t.Errorf("StatementName(%q) = %q, want %q", tt.sql, got, tt.want)
			}
		})
	}
}
