// Package providertest provides the test support the publisher adapters
// under internal/provider share: reading a recording, rendering parsed rate
// sets to one canonical text form, comparing that text with a golden file
// under the package's testdata/ (rewritten by go test -update), and parsing
// a calendar day. Only _test files import it; each adapter keeps its own
// stand-in server's handler, since every publisher's URLs and checks
// differ, and runs it through Serve, which counts the requests.
package providertest

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/fx"
)

// update is registered once here, so an adapter's test binary gets the
// -update flag by importing this package and must not declare its own.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (check the diff before committing)")

// ReadFile returns the content of the file at path, failing the test if it
// cannot be read. Adapters use it for their recordings under the
// repository's testdata/.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Render lists sets in the canonical golden form: one line per rate,
// "as_of base quote value", then, for a set that skipped codes, "as_of base
// skipped code,code,...". as_of is RFC 3339, with a fraction of a second
// only when the publisher stamped one, so none is lost; the value is as
// fx.Exact prints it (digits kept, never a float). Sets and rates keep the
// order the adapter returned them in, so the golden also pins it.
func Render(sets []fx.RateSet) []byte {
	var b strings.Builder
	for _, s := range sets {
		asOf := s.AsOf.Format(time.RFC3339Nano)
		for _, r := range s.Rates {
			fmt.Fprintf(&b, "%s %s %s %s\n", asOf, s.Base, r.Quote, fx.Exact(r.Value))
		}
		if len(s.Skipped) > 0 {
			fmt.Fprintf(&b, "%s %s skipped %s\n", asOf, s.Base, strings.Join(s.Skipped, ","))
		}
	}
	return []byte(b.String())
}

// Golden compares got with the golden file testdata/name of the package
// under test and fails the test when they differ. With -update it first
// writes got there, so the golden follows a deliberate change; the diff is
// then for a person to check against the recording.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs from the parsed sets (run go test -update after checking):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// Day parses a calendar day written as 2006-01-02 into midnight UTC. It
// panics on a malformed day: its arguments are literals in the tests.
func Day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// Serve starts a stand-in publisher answering with handler, closed when
// the test ends, and returns it with the number of requests it has
// received: the tests assert on that count to prove a call made no more
// round trips than the publisher's API needs (one range request, no
// request at all for a reversed range). A request is counted before
// handler runs.
func Serve(t testing.TB, handler http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}
