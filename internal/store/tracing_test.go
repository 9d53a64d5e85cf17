package store_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"ces/internal/store"
	"ces/internal/testenv"
)

// TestQueryTracerRecordsNoValueOfAFailedStatement: PostgreSQL's error
// messages quote the values they refuse, and bun writes values into the
// text, so a statement's span records its error by SQLSTATE: neither the
// error's event nor the span's status may carry the refused value.
func TestQueryTracerRecordsNoValueOfAFailedStatement(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	db := testenv.TracedDB(t, store.NewQueryTracer(tp))
	const value = "4321.98-of-someones-money"
	// otelpgx records statements only inside a recording trace.
	ctx, parent := tp.Tracer("test").Start(context.Background(), "test")
	_, err := db.ExecContext(ctx, "SELECT '"+value+"'::uuid")
	parent.End()
	if err == nil || !strings.Contains(err.Error(), value) {
		t.Fatalf("the statement's error %v does not quote the value; the test tests nothing", err)
	}
	var failed int
	for _, s := range rec.Ended() {
		texts := []string{s.Name(), s.Status().Description}
		for _, a := range s.Attributes() {
			texts = append(texts, a.Value.Emit())
		}
		for _, e := range s.Events() {
			for _, a := range e.Attributes {
				texts = append(texts, a.Value.Emit())
			}
		}
		for _, text := range texts {
			if strings.Contains(text, value) {
				t.Errorf("span %q records the refused value: %q", s.Name(), text)
			}
		}
		if s.Status().Description == "postgres: SQLSTATE 22P02" {
			failed++
			if len(s.Events()) == 0 {
				t.Errorf("span %q records no error event", s.Name())
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d spans record the failure as SQLSTATE 22P02, want 1", failed)
	}
}

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
