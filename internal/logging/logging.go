// Package logging sets up the JSON slog logger every CES process uses, and
// carries the request id through contexts so every line a request logs
// names it.
package logging

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// contextHandler adds request_id to every record logged with a context
// that carries one. On a logger New made, direct is set: LogRequest
// writes the access lines itself.
type contextHandler struct {
	slog.Handler
	direct *direct
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs and WithGroup drop direct: the lines would carry more than
// it writes.
func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name)}
}

// bufferedWriter batches log lines and writes them every flushEvery or
// when the buffer fills. One write(2) per request line was the largest
// single cost of a cached rate lookup (see bench/); batching keeps the
// lines, in order, at the price of up to flushEvery of delay.
type bufferedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

const flushEvery = 100 * time.Millisecond

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

func (b *bufferedWriter) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.w.Flush()
}

var sink = &bufferedWriter{w: newBuf(os.Stderr)}

func newBuf(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }

func init() {
	go func() {
		for range time.Tick(flushEvery) {
			sink.flush()
		}
	}()
}

// Flush writes out buffered log lines; mains defer it so the last lines
// before an orderly exit are not lost.
func Flush() { sink.flush() }

// New returns a JSON logger on stderr naming the process, installed as
// slog's default so library code that logs through slog agrees with it.
func New(process string) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	l := newLogger(sink, process, level)
	slog.SetDefault(l)
	return l
}

// NewTo returns the logger New returns, writing to w at info level, and
// leaves slog's default alone: for tests and benchmarks that need what a
// process writes, access lines by LogRequest's own path included.
func NewTo(w io.Writer, process string) *slog.Logger {
	return newLogger(w, process, slog.LevelInfo)
}

func newLogger(w io.Writer, process string, level slog.Level) *slog.Logger {
	json := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(contextHandler{
		Handler: json.WithAttrs([]slog.Attr{slog.String("process", process)}),
		direct:  &direct{w: w, process: process},
	})
}

// Fatal logs msg with err at error level and exits 1. It is for start-up
// failures in main, where one clear line is all an operator needs.
func Fatal(l *slog.Logger, msg string, err error) {
	l.Error(msg, "error", err.Error())
	Flush()
	os.Exit(1)
}
