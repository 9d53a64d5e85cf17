package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRequestIDOnEveryLineOfARequest(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(contextHandler{Handler: slog.NewJSONHandler(&buf, nil)}).With("process", "api")
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"inside a request", WithRequestID(context.Background(), "req-42"), "req-42"},
		{"outside a request", context.Background(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			l.InfoContext(tt.ctx, "something happened", "k", "v")
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("not one JSON line: %q", buf.String())
			}
			got, _ := line["request_id"].(string)
			if got != tt.want || line["process"] != "api" {
				t.Fatalf("line = %v, want request_id %q", line, tt.want)
			}
		})
	}
}

func TestBufferedWriterKeepsLinesInOrder(t *testing.T) {
	var out bytes.Buffer
	b := &bufferedWriter{w: newBuf(&out)}
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		b.Write([]byte(s))
	}
	if out.Len() != 0 {
		t.Fatalf("written before a flush: %q", out.String())
	}
	b.flush()
	if got := out.String(); got != "one\ntwo\nthree\n" || strings.Count(got, "\n") != 3 {
		t.Fatalf("flushed %q", got)
	}
}

// TestLogRequestWritesWhatSlogWrites: the access line LogRequest appends
// itself is byte for byte slog's, but for the time it was written, and a
// value JSON must escape takes slog's path.
func TestLogRequestWritesWhatSlogWrites(t *testing.T) {
	base := Request{Method: "GET", Route: "/api/v1/rates", Path: "/api/v1/rates", Status: 200,
		Elapsed: 1234567 * time.Nanosecond, Client: "127.0.0.1"}
	withCorrelation := base
	withCorrelation.CorrelationID = "trace-7"
	quoted := base
	quoted.Path = `/api/v1/"rates"\` // escaped by JSON: slog's path
	unicode := base
	unicode.Path = "/api/v1/r\u00e4tes\u2028"
	refused := base
	refused.Status, refused.Route = 500, "/api/v1/convert"
	ctx := WithRequestID(context.Background(), "req-42")
	tests := []struct {
		name  string
		ctx   context.Context
		level slog.Level
		r     Request
	}{
		{"a lookup", ctx, slog.LevelInfo, base},
		{"without a request id", context.Background(), slog.LevelInfo, base},
		{"with the client's correlation id", ctx, slog.LevelInfo, withCorrelation},
		{"a path with a quote and a backslash", ctx, slog.LevelInfo, quoted},
		{"a path beyond ASCII", ctx, slog.LevelInfo, unicode},
		{"a 500", ctx, slog.LevelError, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fast, slow bytes.Buffer
			LogRequest(tt.ctx, newLogger(&fast, "api", slog.LevelInfo), tt.level, tt.r)
			// The same line through slog itself, as the API wrote it before.
			attrs := []slog.Attr{slog.String("method", tt.r.Method), slog.String("route", tt.r.Route), slog.String("path", tt.r.Path),
				slog.Int("status", tt.r.Status), slog.Duration("elapsed", tt.r.Elapsed), slog.String("client", tt.r.Client)}
			if tt.r.CorrelationID != "" {
				attrs = append(attrs, slog.String("correlation_id", tt.r.CorrelationID))
			}
			newLogger(&slow, "api", slog.LevelInfo).LogAttrs(tt.ctx, tt.level, "request", attrs...)
			got, want := fast.String(), slow.String()
			for _, line := range []string{got, want} {
				var v struct{ Time string }
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("not one JSON line: %q", line)
				}
				if _, err := time.Parse(time.RFC3339Nano, v.Time); err != nil {
					t.Fatalf("time %q: %v", v.Time, err)
				}
			}
			if g, w := afterTime(got), afterTime(want); g != w {
				t.Fatalf("LogRequest wrote\n%s\nslog writes\n%s", got, want)
			}
		})
	}
	t.Run("below the level", func(t *testing.T) {
		var out bytes.Buffer
		LogRequest(ctx, newLogger(&out, "api", slog.LevelError), slog.LevelInfo, base)
		if out.Len() != 0 {
			t.Fatalf("wrote %q", out.String())
		}
	})
}

// afterTime is a JSON line from its first field after "time".
func afterTime(line string) string {
	_, rest, _ := strings.Cut(line, `","level"`)
	return rest
}

func BenchmarkLogRequest(b *testing.B) {
	l := newLogger(io.Discard, "api", slog.LevelInfo)
	ctx := WithRequestID(context.Background(), "01JEXAMPLE0000000000000000")
	r := Request{Method: "GET", Route: "/api/v1/rates", Path: "/api/v1/rates", Status: 200, Elapsed: time.Millisecond, Client: "127.0.0.1"}
	b.ReportAllocs()
	for b.Loop() {
		LogRequest(ctx, l, slog.LevelInfo, r)
	}
}

// BenchmarkLogRequestSlog is the same line through slog, as the API wrote
// it before LogRequest: the reference for BenchmarkLogRequest.
func BenchmarkLogRequestSlog(b *testing.B) {
	l := newLogger(io.Discard, "api", slog.LevelInfo)
	ctx := WithRequestID(context.Background(), "01JEXAMPLE0000000000000000")
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("route", "/api/v1/rates"),
			slog.String("path", "/api/v1/rates"), slog.Int("status", 200), slog.Duration("elapsed", time.Millisecond),
			slog.String("client", "127.0.0.1"))
	}
}
