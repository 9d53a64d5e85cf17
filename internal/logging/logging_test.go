package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestRequestIDOnEveryLineOfARequest(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(contextHandler{slog.NewJSONHandler(&buf, nil)}).With("process", "api")
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
