package store

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// NewQueryTracer returns the pgx tracer that records a span per statement
// under tp. bun writes every value into the SQL text, so the spans carry
// neither the text nor arguments: each is named by StatementName, and a
// PostgreSQL error is recorded without its message (redactingProvider).
// A nil tp is the global provider, as otelpgx takes it.
func NewQueryTracer(tp trace.TracerProvider) pgx.QueryTracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(redactingProvider{tp}),
		// CES's metrics are its own (internal/metrics); pgx's would be a
		// second, unscraped set.
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelpgx.WithDisableSQLStatementInAttributes(),
		otelpgx.WithSpanNameFunc(StatementName),
	)
}

// redactingProvider gives otelpgx spans that record a PostgreSQL error
// never by its message (the status says its SQLSTATE, the error event adds
// the constraint, table and column it names): the server's messages quote
// values of the statement ("invalid input syntax for type uuid: \"…\""),
// and bun writes every value into the text, so a client's input or an
// amount could otherwise reach the error's event and the span's status. Errors of the connection
// (refused, timed out, closed) come from pgx and the network, not from
// values, and are kept.
type redactingProvider struct{ trace.TracerProvider }

func (p redactingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return redactingTracer{p.TracerProvider.Tracer(name, opts...)}
}

// redactingTracer starts redactingSpans.
type redactingTracer struct{ trace.Tracer }

// Start puts the redacting span in the context too: otelpgx ends its spans
// through trace.SpanFromContext.
func (t redactingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := t.Tracer.Start(ctx, name, opts...)
	r := redactingSpan{span}
	return trace.ContextWithSpan(ctx, r), r
}

// redactingSpan is a span whose error event and status leave out a
// PostgreSQL error's message.
type redactingSpan struct{ trace.Span }

// RecordError records a PostgreSQL error as a redactedError; other errors
// (the connection's, a context's) as they are.
func (s redactingSpan) RecordError(err error, opts ...trace.EventOption) {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		err = redactedError{pe}
	}
	s.Span.RecordError(err, opts...)
}

// SetStatus keeps only the SQLSTATE of a description that names one:
// otelpgx takes it from err.Error(), which for a PostgreSQL error, wrapped
// or not, holds the message and "(SQLSTATE xxxxx)".
func (s redactingSpan) SetStatus(code codes.Code, description string) {
	// The last one is pgconn's; an earlier one can only be quoted text.
	if m := sqlState.FindAllStringSubmatch(description, -1); code == codes.Error && m != nil {
		description = "postgres: SQLSTATE " + m[len(m)-1][1]
	}
	s.Span.SetStatus(code, description)
}

// sqlState finds the code pgconn.PgError.Error() ends with.
var sqlState = regexp.MustCompile(`\(SQLSTATE ([0-9A-Z]{5})\)`)

// redactedError is a PostgreSQL error without its message.
type redactedError struct{ pe *pgconn.PgError }

func (e redactedError) Error() string {
	msg := "postgres: SQLSTATE " + e.pe.Code
	for _, n := range []struct{ kind, name string }{{"constraint", e.pe.ConstraintName}, {"table", e.pe.TableName}, {"column", e.pe.ColumnName}} {
		if n.name != "" {
			msg += " " + n.kind + " " + n.name
		}
	}
	return msg
}

// OpenInstrumented is OpenWithLimits with tracer (nil: none) seeing every
// statement sent.
func OpenInstrumented(ctx context.Context, url string, maxConns int, l Limits, tracer pgx.QueryTracer) (*bun.DB, error) {
	return open(ctx, url, maxConns, l, tracer, false)
}

// StatementName names a statement for a span: its command and, for the
// commands that name one, the table it reads or writes ("SELECT rates",
// "INSERT conversion_audits"). It never returns anything of the text but
// a keyword and an identifier, so no value bun inlined can leak into it.
func StatementName(sql string) string {
	words := strings.FieldsFunc(sql, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == ')' || r == ',' || r == ';' })
	if len(words) == 0 {
		return "SQL"
	}
	verb := strings.ToUpper(words[0])
	if !isIdentifier(verb) {
		return "SQL"
	}
	var after string
	switch verb {
	case "INSERT":
		after = "INTO"
	case "DELETE", "SELECT":
		after = "FROM"
	case "UPDATE":
		if len(words) > 1 {
			if t := table(words[1]); t != "" {
				return verb + " " + t
			}
		}
		return verb
	default:
		return verb
	}
	for i := 1; i+1 < len(words); i++ {
		if strings.EqualFold(words[i], after) {
			if t := table(words[i+1]); t != "" {
				return verb + " " + t
			}
			break
		}
	}
	return verb
}

// table returns w without bun's quotes when it is an identifier (schema
// qualified or not), "" otherwise.
func table(w string) string {
	w = strings.ReplaceAll(w, `"`, "")
	if !isIdentifier(w) {
		return ""
	}
	return w
}

func isIdentifier(w string) bool {
	if w == "" || len(w) > 63 {
		return false
	}
	for i, r := range w {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '.'):
		default:
			return false
		}
	}
	return true
}
