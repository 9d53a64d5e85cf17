// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// environment variables and gives CES's own code a way to open spans that
// costs nothing when tracing is off.
//
// Tracing is off unless an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Off, the global tracer provider
// stays OpenTelemetry's no-op, Start returns its context untouched, and the
// instrumentation of Fiber, pgx, Redis and HTTP clients is not installed at
// all, so a request allocates nothing for tracing.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Variables are the OpenTelemetry SDK's variables CES honours for traces:
// this package reads the first few to decide whether tracing is on, and
// the SDK reads them all (the exporter, the sampler, the batch processor
// and the resource). Setup copies those an env file set into the process
// environment, where the SDK looks for them.
var Variables = []string{
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
	"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
}

// Instrumentation is the name CES's own spans are recorded under.
const Instrumentation = "ces"

var (
	// on is set by Setup when it installs a real provider; Start reads it
	// on every call, so it is the whole cost of tracing when off.
	on     atomic.Bool
	tracer trace.Tracer = noop.NewTracerProvider().Tracer(Instrumentation)
)

// Provider is the process's tracing: on (exporting over OTLP) or off.
type Provider struct {
	sdk *sdktrace.TracerProvider
}

// Enabled reports whether spans are recorded and exported. Callers install
// instrumentation (pgx's tracer, redisotel, otelhttp, the Temporal
// interceptor) only when it is.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// TracerProvider is what instrumentation libraries are given: the SDK's
// when on, a no-op one when off.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if !p.Enabled() {
		return noop.NewTracerProvider()
	}
	return p.sdk
}

// Shutdown exports the spans still buffered and stops the exporter; a
// process calls it on its way out. Off, it does nothing.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	on.Store(false)
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Describe says where spans go, for a log line: never the headers, which
// may carry a collector's token.
func (p *Provider) Describe(environ map[string]string) string {
	if !p.Enabled() {
		return "off"
	}
	get := lookup(environ)
	endpoint := first(get, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	if i := strings.Index(endpoint, "@"); i >= 0 { // user:password@host
		if j := strings.Index(endpoint, "//"); j >= 0 && j < i {
			endpoint = endpoint[:j+2] + endpoint[i+1:]
		}
	}
	if i := strings.IndexAny(endpoint, "?#"); i >= 0 {
		endpoint = endpoint[:i]
	}
	sampler := first(get, "OTEL_TRACES_SAMPLER")
	if sampler == "" {
		sampler = "parentbased_always_on"
	}
	if arg := first(get, "OTEL_TRACES_SAMPLER_ARG"); arg != "" {
		sampler += " " + arg
	}
	return fmt.Sprintf("OTLP %s to %s, sampler %s", protocol(get), endpoint, sampler)
}

// Setup turns tracing on when environ (nil: the process environment)
// names an OTLP endpoint and neither OTEL_SDK_DISABLED=true nor
// OTEL_TRACES_EXPORTER=none turns it off. On, it installs the SDK as the
// global tracer provider, with W3C trace context as the propagator, under
// service (OTEL_SERVICE_NAME overrides it). The exporter speaks
// OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the default) or grpc.
func Setup(ctx context.Context, service string, environ map[string]string) (*Provider, error) {
	get := lookup(environ)
	if !enabled(get) {
		return &Provider{}, nil
	}
	p := protocol(get)
	if p != "grpc" && p != "http/protobuf" {
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL is %q: CES exports traces over grpc or http/protobuf", p)
	}
	// The SDK reads its variables from the process environment; those an
	// env file supplied are copied there, never overriding the process's.
	for _, name := range Variables {
		if v, ok := get(name); ok {
			if _, set := os.LookupEnv(name); !set {
				os.Setenv(name, v)
			}
		}
	}
	client := otlptracehttp.NewClient()
	if p == "grpc" {
		client = otlptracegrpc.NewClient()
	}
	// New does not connect: an unreachable collector costs dropped spans,
	// never the process's start.
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER and _ARG (default:
	// parent-based, always on); the batch processor from OTEL_BSP_*.
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(sdk)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tracer = sdk.Tracer(Instrumentation)
	on.Store(true)
	return &Provider{sdk: sdk}, nil
}

// ShutdownTimeout bounds the last export when a process stops.
const ShutdownTimeout = 5 * time.Second

func enabled(get func(string) (string, bool)) bool {
	if v, _ := get("OTEL_SDK_DISABLED"); strings.EqualFold(strings.TrimSpace(v), "true") {
		return false
	}
	if v, _ := get("OTEL_TRACES_EXPORTER"); strings.EqualFold(strings.TrimSpace(v), "none") {
		return false
	}
	return first(get, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

func protocol(get func(string) (string, bool)) string {
	if p := first(get, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" {
		return p
	}
	return "http/protobuf"
}

// first returns the first of names set to something other than blanks.
func first(get func(string) (string, bool), names ...string) string {
	for _, n := range names {
		if v, _ := get(n); strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func lookup(environ map[string]string) func(string) (string, bool) {
	if environ == nil {
		return os.LookupEnv
	}
	return func(name string) (string, bool) {
		v, ok := environ[name]
		return v, ok
	}
}

// Enabled reports whether Setup turned tracing on in this process.
func Enabled() bool { return on.Load() }

// Annotate sets a string attribute on the span ctx carries (one of CES's
// or an instrumentation's); off, it does nothing.
func Annotate(ctx context.Context, key, value string) {
	if !on.Load() {
		return
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String(key, value))
}

// Span is one of CES's own spans, or nothing when tracing is off: its
// methods are then no-ops that allocate nothing.
type Span struct {
	s trace.Span
}

// Start opens a span named name under ctx's span; off, it returns ctx as
// it is and an empty Span.
func Start(ctx context.Context, name string) (context.Context, Span) {
	if !on.Load() {
		return ctx, Span{}
	}
	ctx, s := tracer.Start(ctx, name)
	return ctx, Span{s: s}
}

// StartServer is Start for the span of a request a server answers (its
// kind is server).
func StartServer(ctx context.Context, name string) (context.Context, Span) {
	if !on.Load() {
		return ctx, Span{}
	}
	ctx, s := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
	return ctx, Span{s: s}
}

// StartClient is Start for a call CES makes to a server outside (its kind
// is client).
func StartClient(ctx context.Context, name string) (context.Context, Span) {
	if !on.Load() {
		return ctx, Span{}
	}
	ctx, s := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient))
	return ctx, Span{s: s}
}

// SetName renames the span, once what it should be called is known (a
// request's route, after routing).
func (s Span) SetName(name string) {
	if s.s != nil {
		s.s.SetName(name)
	}
}

// SetBool sets a boolean attribute.
func (s Span) SetBool(key string, value bool) {
	if s.s != nil {
		s.s.SetAttributes(attribute.Bool(key, value))
	}
}

// End closes the span.
func (s Span) End() {
	if s.s != nil {
		s.s.End()
	}
}

// Recording reports whether the span is sampled, so that a caller can skip
// work that only feeds attributes.
func (s Span) Recording() bool { return s.s != nil && s.s.IsRecording() }

// SetString sets a string attribute. Callers never pass a key, a secret,
// an amount or SQL text (docs/tracing.md, the attribute policy).
func (s Span) SetString(key, value string) {
	if s.s != nil {
		s.s.SetAttributes(attribute.String(key, value))
	}
}

// SetInt sets an integer attribute.
func (s Span) SetInt(key string, value int) {
	if s.s != nil {
		s.s.SetAttributes(attribute.Int(key, value))
	}
}

// Fail marks the span failed when err is not nil. The error's text is not
// recorded: CES's errors may quote what a client sent.
func (s Span) Fail(err error) {
	if s.s != nil && err != nil {
		s.s.SetStatus(codes.Error, "")
	}
}
