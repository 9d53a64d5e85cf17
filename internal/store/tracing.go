package store

import (
	"context"
	"strings"
	"unicode"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// NewQueryTracer returns the pgx tracer that records a span per statement
// under tp. bun writes every value into the SQL text, so the spans carry
// neither the text nor arguments: each is named by StatementName.
func NewQueryTracer(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(tp),
		// CES's metrics are its own (internal/metrics); pgx's would be a
		// second, unscraped set.
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelpgx.WithDisableSQLStatementInAttributes(),
		otelpgx.WithSpanNameFunc(StatementName),
	)
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
