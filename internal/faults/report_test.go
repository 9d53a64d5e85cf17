package faults_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ces/internal/testenv"
)

// report is the suite's table: one row per invariant checked.
type report struct {
	mu   sync.Mutex
	rows [][4]string
}

type reporter struct {
	rep  *report
	name string
}

func (r *report) experiment(name string) *reporter { return &reporter{rep: r, name: name} }

// check records an invariant and what was observed, and fails the test
// when it does not hold.
func (r *reporter) check(t *testing.T, invariant string, ok bool, observed string, args ...any) {
	t.Helper()
	obs := fmt.Sprintf(observed, args...)
	mark := "ok"
	if !ok {
		mark = "FAIL"
		t.Errorf("%s: %s: observed %s", r.name, invariant, obs)
	}
	line := [4]string{r.name, invariant, obs, mark}
	t.Logf("%s | %s | %s | %s", line[0], line[1], line[2], line[3])
	r.rep.mu.Lock()
	r.rep.rows = append(r.rep.rows, line)
	r.rep.mu.Unlock()
}

// write prints the table and writes it to FAULTS_REPORT (default
// .data/faults.txt, which git ignores).
func (r *report) write(t *testing.T, s *stack) {
	var b strings.Builder
	b.WriteString("experiment | invariant | observed | ok\n")
	for _, row := range r.rows {
		b.WriteString(strings.Join(row[:], " | ") + "\n")
	}
	fmt.Print("\n" + b.String())
	path := os.Getenv("FAULTS_REPORT")
	if path == "" {
		path = filepath.Join(testenv.RepoRoot(t), ".data", "faults.txt")
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Logf("write the report: %v", err)
	} else {
		fmt.Printf("fault suite report written to %s (process logs in %s)\n", path, s.dir)
	}
}
