// Command bench measures CES against the floors of its own design, in one
// run on one machine: fasthttp alone writing a pre-encoded body the size
// of a rates response (the raw floor), a minimal Fiber server answering
// the same body (the Fiber floor: CES's HTTP stack with no work behind
// it) and one INSERT of an audit-shaped row per request through the same
// driver and pool size (the insert floor). Every figure is reported as a
// ratio to its floor, so the machine's speed and noise cancel out; every
// p99 as a ratio to its floor's p99 at the same offered rate. With two
// CPUs or more, scripts/bench.sh runs this load generator on CPU 0 and
// the servers it starts on the others (CES_BENCH_SERVER_CPUS), so that a
// p99 does not measure the scheduler. After the scaled scenarios, the
// world stage loads every publisher from its recordings and measures an
// API serving them all (world.go), and the offline demo is timed to ready
// (demo.go). Run it with `make bench` (BENCH_QUICK=1 for a short run).
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// settings of one run.
type settings struct {
	quick       bool
	closedFor   time.Duration // closed-loop max-throughput run
	openFor     time.Duration // open-loop latency run
	concurrency int
	scaleRows   int // rate rows and audit rows loaded for the scale runs
	poolSize    int
	rounds      int // closed-loop runs per measurement; the best counts
	only        map[string]bool
}

// stage reports whether a stage of the run (small, tracing, scaled, world,
// demo) is on: every stage unless BENCH_ONLY lists some, as when a change
// is measured without waiting for the whole run. BENCH_ONLY=cpu runs the
// server-CPU rows alone, on the small database (the small stage has them).
func (s settings) stage(name string) bool { return len(s.only) == 0 || s.only[name] }

func load() settings {
	s := settings{closedFor: 5 * time.Second, openFor: 8 * time.Second, concurrency: 32, scaleRows: 1_000_000, poolSize: 16, rounds: 3}
	for _, name := range strings.Split(os.Getenv("BENCH_ONLY"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			if s.only == nil {
				s.only = map[string]bool{}
			}
			s.only[name] = true
		}
	}
	if os.Getenv("BENCH_QUICK") != "" {
		// Short runs and a twentieth of the history, to finish within a minute.
		s.quick, s.closedFor, s.openFor, s.scaleRows, s.rounds = true, 1200*time.Millisecond, 1200*time.Millisecond, 50_000, 1
	}
	return s
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(log)
	if err := run(load()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func need(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "bench: %s is not set (run it with make bench)\n", name)
		os.Exit(2)
	}
	return v
}

func say(format string, args ...any) { fmt.Fprintf(os.Stderr, "[bench] "+format+"\n", args...) }
