package store

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestRedactingSpanStatus: an error status that names a SQLSTATE keeps the
// code alone, whatever wraps or follows the message; other descriptions
// and other statuses are kept.
func TestRedactingSpanStatus(t *testing.T) {
	for _, tt := range []struct {
		name, desc string
		code       codes.Code
		want       string
	}{
		{"a PostgreSQL error", `ERROR: invalid input syntax for type uuid: "4321.98" (SQLSTATE 22P02)`, codes.Error, "postgres: SQLSTATE 22P02"},
		{"wrapped, with text after it", `store: find: ERROR: invalid input syntax for type uuid: "4321.98" (SQLSTATE 22P02): retried`, codes.Error, "postgres: SQLSTATE 22P02"},
		{"a value quoting a SQLSTATE", `ERROR: invalid input syntax for type uuid: "(SQLSTATE 00000) 4321.98" (SQLSTATE 22P02)`, codes.Error, "postgres: SQLSTATE 22P02"},
		{"the connection's error", "failed to connect to `user=ces_api database=ces`: connection refused", codes.Error, "failed to connect to `user=ces_api database=ces`: connection refused"},
		{"not an error", "ok", codes.Ok, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			_, span := redactingProvider{tp}.Tracer("test").Start(context.Background(), "SELECT")
			span.SetStatus(tt.code, tt.desc)
			span.End()
			if got := rec.Ended()[0].Status().Description; got != tt.want {
				t.Errorf("status %q, want %q", got, tt.want)
			}
		})
	}
}
