package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ces/internal/clients"
	"ces/internal/httpapi"
	"ces/internal/logging"
)

// TestAnswerBytes pins, byte for byte, what a client receives for the
// lookups the benchmark measures (issue 29): the status line, every
// header and the body exactly as written, on an API configured as
// production runs it (near cache, history cache, metrics, quotas, a
// request deadline). Each answer is asked for twice and must come back
// identical, so that an answer served from memory the second time is
// the first one's bytes. The clock is fixed; only the request id and the
// Date header genuinely differ between runs, and each is checked for its
// form before it is replaced by a placeholder.
func TestAnswerBytes(t *testing.T) {
	w := newWorld(t, options{nearCache: true, historyCache: true, metrics: true, requestTimeout: 5 * time.Second,
		quotas: map[string]int{clients.ScopeRatesRead: 600, clients.ScopeConvert: 600}})
	w.ingest(t, ecbHistory(t)...)
	// The same API, its log recorded: the access log's lines are part of
	// what the optimisations keep.
	rec := &recordingLog{}
	d := w.deps
	d.Log = slog.New(rec)
	app := httpapi.New(d)
	get := func(target string, headers []string) response {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return sendTo(t, app, req)
	}
	keyed := []string{"Authorization", "Bearer " + w.key}
	tests := []struct {
		name, target string
		headers      []string
		// once: the answer carries a quota's count, which the second
		// request changes.
		once bool
	}{
		{"direct", "/api/v1/rates?from=EUR&to=USD", nil, false},
		{"inverse", "/api/v1/rates?from=USD&to=EUR", nil, false},
		{"cross", "/api/v1/rates?from=USD&to=GBP", nil, false},
		{"same", "/api/v1/rates?from=USD&to=USD", nil, false},
		{"at_instant", "/api/v1/rates?from=USD&to=JPY&at=2017-01-10T12:00:00Z", nil, false},
		{"at_date", "/api/v1/rates?from=EUR&to=USD&at=2017-01-14", nil, false},
		{"history", "/api/v1/rates/history?from=USD&to=GBP&start=2017-02-27&end=2017-03-03", nil, false},
		{"not_modified", "/api/v1/rates?from=USD&to=GBP", []string{"If-None-Match", `W/"placeholder", ` + etagOfAnswer(t, w, "/api/v1/rates?from=USD&to=GBP")}, false},
		{"err_404_at_before_history", "/api/v1/rates?from=USD&to=GBP&at=2010-01-01", nil, false},
		{"err_400_unknown_currency", "/api/v1/rates?from=USD&to=XXY", nil, false},
		{"err_400_two_letters", "/api/v1/rates?from=US&to=EUR", nil, false},
		{"err_400_bad_at", "/api/v1/rates?from=USD&to=EUR&at=yesterday", nil, false},
		{"err_400_correlation_id", "/api/v1/rates?from=USD&to=EUR", []string{"X-Request-ID", "not valid!"}, false},
		{"correlation_id", "/api/v1/rates?from=USD&to=EUR", []string{"X-Request-ID", "trace-0af7651916cd43dd"}, false},
		{"err_404_route", "/api/v1/nope", nil, false},
		{"keyed", "/api/v1/rates?from=USD&to=GBP", keyed, true},
		{"err_401_keyed", "/api/v1/rates?from=USD&to=GBP", []string{"Authorization", "Bearer ces_unknown"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.reset()
			r := get(tt.target, tt.headers)
			first := append(answerBytes(t, r), rec.text(t, r.Header.Get("X-Request-Id"))...)
			if !tt.once {
				rec.reset()
				r := get(tt.target, tt.headers)
				if again := append(answerBytes(t, r), rec.text(t, r.Header.Get("X-Request-Id"))...); !bytes.Equal(again, first) {
					t.Fatalf("the second answer differs from the first:\n--- first\n%s\n--- second\n%s", first, again)
				}
			}
			path := filepath.Join("testdata", "answers", tt.name+".http")
			if *update {
				if err := os.WriteFile(path, first, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(want, first) {
				t.Fatalf("%s differs from %s:\n--- got\n%s\n--- want\n%s", tt.name, path, first, want)
			}
		})
	}
}

// etagOfAnswer is the ETag the API answers target with.
func etagOfAnswer(t *testing.T, w *world, target string) string {
	t.Helper()
	r := w.get(t, target)
	if r.Status != 200 || r.Header.Get("Etag") == "" {
		t.Fatalf("%s: %d, no ETag", target, r.Status)
	}
	return r.Header.Get("Etag")
}

var (
	uuidV4   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	httpDate = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$`)
)

// answerBytes is r as the text pinned in testdata/answers: the status,
// every header sorted by name (the request id and Date checked for their
// form, then replaced), a blank line and the body as sent.
func answerBytes(t *testing.T, r response) []byte {
	t.Helper()
	var lines []string
	for name, vals := range r.Header {
		for _, v := range vals {
			switch name {
			case "X-Request-Id":
				if !uuidV4.MatchString(v) {
					t.Fatalf("X-Request-ID %q is not a UUIDv4", v)
				}
				v = "<uuid v4>"
			case "Date":
				if !httpDate.MatchString(v) {
					t.Fatalf("Date %q is not an HTTP date", v)
				}
				v = "<http date>"
			}
			lines = append(lines, name+": "+v)
		}
	}
	sort.Strings(lines)
	var b bytes.Buffer
	b.WriteString("HTTP " + strconv.Itoa(r.Status) + "\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	b.Write(r.Body)
	return b.Bytes()
}

// recordingLog is a slog.Handler that keeps the records of one request,
// with the request id their context carries.
type recordingLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordingLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *recordingLog) WithGroup(string) slog.Handler            { return l }

func (l *recordingLog) Handle(ctx context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message + " request_id=" + logging.RequestID(ctx)
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.Key + "=" + a.Value.Resolve().String()
		if a.Key == "elapsed" {
			if a.Value.Kind() != slog.KindDuration || a.Value.Duration() <= 0 {
				line += "(not a positive duration)"
			} else {
				line = line[:len(line)-len(a.Value.String())] + "<duration>"
			}
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	return nil
}

func (l *recordingLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

// text is the lines logged since reset, under a "--- log" line, the
// request id checked to be the answer's (id) and replaced.
func (l *recordingLog) text(t *testing.T, id string) []byte {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("\n--- log\n")
	for _, line := range l.lines {
		if id == "" || !strings.Contains(line, " request_id="+id+" ") {
			t.Fatalf("log line %q does not carry the answer's request id %q", line, id)
		}
		b.WriteString(strings.Replace(line, id, "<uuid v4>", 1) + "\n")
	}
	return b.Bytes()
}
