package tracing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ces/internal/tracing"
)

// TestSetupOff: without an endpoint, or with tracing turned off by the
// SDK's own switches, Setup installs nothing; an unknown protocol stops
// the process at start with an error naming the variable.
func TestSetupOff(t *testing.T) {
	for _, tt := range []struct {
		name    string
		environ map[string]string
		err     string
	}{
		{"no endpoint", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, ""},
		{"blank endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, ""},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, ""},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_TRACES_EXPORTER": "none"}, ""},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tracing.Setup(context.Background(), "ces-test", tt.environ)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Enabled() || tracing.Enabled() {
				t.Fatal("tracing is on")
			}
			if got := p.Describe(tt.environ); got != "off" {
				t.Errorf("Describe = %q", got)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestOffCostsNothing: with tracing off, what the request path calls
// (Start, attributes, Annotate, End) allocates nothing and hands back the
// caller's own context.
func TestOffCostsNothing(t *testing.T) {
	if tracing.Enabled() {
		t.Fatal("tracing is on in a test process")
	}
	ctx := context.Background()
	err := errors.New("x")
	allocs := testing.AllocsPerRun(1000, func() {
		c, span := tracing.Start(ctx, "rates.latest")
		span.SetString("ces.rates.tier", "near")
		span.SetBool("ces.quota.allowed", true)
		span.SetInt("n", 1)
		tracing.Annotate(c, "k", "v")
		span.Fail(err)
		span.End()
		c, span = tracing.StartServer(c, "GET")
		span.SetName("GET /api/v1/rates")
		span.End()
		if c != ctx {
			t.Fatal("Start replaced the context")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup with tracing off, want 0", allocs)
	}
}
