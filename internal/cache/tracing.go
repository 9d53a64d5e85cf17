package cache

import (
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// Trace records a span per Redis command (or pipeline) rdb sends, under
// tp. Spans name the command only: its arguments are keys that name API
// key ids and values that are rates, so they stay out.
func Trace(rdb redis.UniversalClient, tp trace.TracerProvider) error {
	err := redisotel.InstrumentTracing(rdb,
		redisotel.WithTracerProvider(tp),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false))
	if err != nil {
		return fmt.Errorf("cache: trace redis: %w", err)
	}
	return nil
}
