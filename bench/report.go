package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Result is one row of the table.
type Result struct {
	Scenario string  `json:"scenario"`
	Database string  `json:"database"`
	MaxRPS   float64 `json:"max_rps,omitempty"`
	Floor    string  `json:"floor,omitempty"`
	FloorRPS float64 `json:"floor_rps,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	RawRatio float64 `json:"raw_floor_ratio,omitempty"`
	RateRPS  float64 `json:"latency_at_rps,omitempty"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	P999Ms   float64 `json:"p999_ms"`
	P99Ratio float64 `json:"p99_ratio,omitempty"`
	Errors   float64 `json:"error_ratio"`
	APIRSSMB float64 `json:"api_rss_mb,omitempty"`
	// APIHeapMB is the Go heap in use of that API then (its /metrics).
	APIHeapMB float64 `json:"api_heap_mb,omitempty"`
	// Took is a one-off run's duration (the backfill), Downloads its
	// provider requests.
	TookS float64 `json:"took_s,omitempty"`
	// CPUUsPerReq is the API process's CPU time (user and system) per
	// request over an open-loop run at RateRPS, in microseconds.
	CPUUsPerReq float64 `json:"cpu_us_per_request,omitempty"`
	// CPURatio is CPUUsPerReq over the Fiber floor's at the same rate in
	// the same run; CPUTarget and CPUMet judge it (issue 29).
	CPURatio   float64 `json:"cpu_ratio,omitempty"`
	CPUTarget  string  `json:"cpu_target,omitempty"`
	CPUMet     *bool   `json:"cpu_met,omitempty"`
	Downloads  int     `json:"downloads,omitempty"`
	Target     string  `json:"target"`
	Met        *bool   `json:"met,omitempty"`
	ScaleDelta float64 `json:"scale_delta,omitempty"`
}

// Report is the JSON file bench writes.
type Report struct {
	When        time.Time `json:"when"`
	Quick       bool      `json:"quick"`
	Machine     string    `json:"machine"`
	Concurrency int       `json:"concurrency"`
	ClosedFor   string    `json:"closed_loop_duration"`
	OpenFor     string    `json:"open_loop_duration"`
	ScaleRows   int       `json:"scale_rows"`
	Rounds      int       `json:"closed_loop_rounds"`
	Pinning     string    `json:"pinning"`
	Only        string    `json:"only,omitempty"` // BENCH_ONLY's stages, when not all ran
	Results     []Result  `json:"results"`
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	// runtime.NumCPU counts the CPUs this process may use, one when pinned.
	cores := 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		cores = strings.Count(string(b), "\nprocessor") + 1
	}
	return fmt.Sprintf("%s, %d cores, %s/%s, %s", model, cores, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func write(rep Report) error {
	name := "latest"
	if rep.Quick {
		name = "quick"
	}
	if rep.Only != "" {
		// A part of the run never replaces the whole run's table.
		name = "partial"
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	md := table(rep)
	fmt.Println(md)
	if err := os.WriteFile(filepath.Join("bench", "results", name+".json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join("bench", "results", name+".md"), []byte(md), 0o644)
}

func table(rep Report) string {
	var b strings.Builder
	mode := "full"
	if rep.Quick {
		mode = "quick (BENCH_QUICK=1: short runs, figures are rougher)"
	}
	if rep.Only != "" {
		mode += ", stages " + rep.Only + " only (BENCH_ONLY)"
	}
	fmt.Fprintf(&b, "CES benchmark, %s, %s. Machine: %s. Pinning: %s. Load: vegeta in the bench process, %d connections; max throughput is the best of %d closed-loop runs of %s; latency from an open-loop run of %s at half the Fiber floor's max rate for lookups (the raw floor too) and half the insert floor's for conversions. Server CPU per request: the API process's user and system time (/proc/<pid>/stat) over an open-loop run of %s at a fixed %d req/s, the lowest of %d rounds, against the Fiber floor's measured the same way in the same run. Scaled: +%d rate rows, +%d audit rows.\n\n",
		rep.When.Format(time.RFC3339), mode, rep.Machine, rep.Pinning, rep.Concurrency, rep.Rounds, rep.ClosedFor, rep.OpenFor, cpuDurationOf(rep), cpuRate, rep.Rounds, rep.ScaleRows, rep.ScaleRows)
	b.WriteString("| scenario | database | max req/s | floor | floor req/s | ratio | ratio to raw floor | latency at req/s | p50 ms | p99 ms | p99.9 ms | p99 ÷ floor's | errors | API RSS MB | Go heap MB | CPU µs/req | CPU ÷ floor's | CPU target | CPU met | took s | downloads | vs small | target | met |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|---|\n")
	for _, r := range rep.Results {
		f := func(v float64, format string) string {
			if v == 0 {
				return ""
			}
			return fmt.Sprintf(format, v)
		}
		delta := ""
		if r.ScaleDelta != 0 {
			delta = fmt.Sprintf("%+.0f%%", r.ScaleDelta*100)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f%% | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Scenario, r.Database, f(r.MaxRPS, "%.0f"), r.Floor, f(r.FloorRPS, "%.0f"), f(r.Ratio, "%.2f"), f(r.RawRatio, "%.2f"), f(r.RateRPS, "%.0f"),
			f(r.P50Ms, "%.3f"), f(r.P99Ms, "%.3f"), f(r.P999Ms, "%.3f"), f(r.P99Ratio, "%.2f"), r.Errors*100, f(r.APIRSSMB, "%.1f"), f(r.APIHeapMB, "%.1f"),
			f(r.CPUUsPerReq, "%.1f"), f(r.CPURatio, "%.2f"), r.CPUTarget, yesNo(r.CPUMet), f(r.TookS, "%.1f"), f(float64(r.Downloads), "%.0f"), delta, r.Target, yesNo(r.Met))
	}
	return b.String()
}

// pinning says where the load generator and the servers run.
func pinning() string {
	if cpus := os.Getenv("CES_BENCH_SERVER_CPUS"); cpus != "" {
		return fmt.Sprintf("load generator on CPU %s, CES and floor servers on CPU %s (taskset); PostgreSQL, Redis and Temporal unpinned",
			os.Getenv("CES_BENCH_LOAD_CPUS"), cpus)
	}
	return "none: one CPU, the load generator and the servers share it"
}

// yesNo is a met column: empty when nothing was judged.
func yesNo(met *bool) string {
	switch {
	case met == nil:
		return ""
	case *met:
		return "yes"
	}
	return "no"
}

// cpuDurationOf is the length of the report's server-CPU runs.
func cpuDurationOf(rep Report) string {
	d, _ := time.ParseDuration(rep.OpenFor)
	return cpuDuration(settings{openFor: d}).String()
}
