package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// pprofAddr and multiPprofAddr are where the APIs serve pprof when
// BENCH_PROFILE is set.
var pprofAddr, multiPprofAddr string

// profile fetches a CPU profile of the API while load runs, writes it to
// bench/results/<name>.pprof and prints the top of it.
func profile(name, addr string, seconds int) chan struct{} {
	done := make(chan struct{})
	if addr == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		b, err := httpGet(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds))
		if err != nil {
			say("profile %s: %v", name, err)
			return
		}
		path := filepath.Join("bench", "results", name+".pprof")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			say("profile %s: %v", name, err)
			return
		}
		out, _ := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", path).CombinedOutput()
		say("CPU profile of the API under %s (%s):\n%s", name, path, out)
	}()
	return done
}

// maxThroughput is the best of s.rounds closed-loop runs with
// s.concurrency workers. On a shared machine a run can only be slowed by
// its neighbours, never sped up, so the best run is the closest to the truth.
func maxThroughput(s settings, name string, t vegeta.Targeter) (rps, errRatio float64) {
	for i := 0; i < s.rounds; i++ {
		closed := vegeta.NewAttacker(vegeta.Workers(uint64(s.concurrency)), vegeta.MaxWorkers(uint64(s.concurrency)),
			vegeta.Connections(s.concurrency), vegeta.MaxConnections(s.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
		var m vegeta.Metrics
		for res := range closed.Attack(t, vegeta.Rate{Freq: 0}, s.closedFor, name) {
			m.Add(res)
		}
		m.Close()
		rps = max(rps, m.Throughput)
		errRatio = max(errRatio, 1-m.Success)
	}
	return rps, errRatio
}

// measure finds the closed-loop maximum throughput, then the latency of
// an open-loop run at rate (when rate > 0, else half the maximum), so
// queueing delay is counted rather than hidden (no coordinated omission).
func measure(s settings, name string, t vegeta.Targeter, rate float64) Result {
	rps, errRatio := maxThroughput(s, name, t)
	r := Result{Scenario: name, MaxRPS: rps, Errors: errRatio}
	if rate <= 0 {
		rate = rps / 2
	}
	// Open loop: the pacer sends on schedule whatever the answers do; extra
	// workers (up to 4× the connections) absorb slow answers, and the
	// connection cap keeps the load generator from churning TCP connections.
	open := vegeta.NewAttacker(vegeta.Workers(uint64(s.concurrency)), vegeta.MaxWorkers(uint64(4*s.concurrency)),
		vegeta.Connections(s.concurrency), vegeta.MaxConnections(s.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var lm vegeta.Metrics
	for res := range open.Attack(t, vegeta.ConstantPacer{Freq: int(rate), Per: time.Second}, s.openFor, name) {
		lm.Add(res)
	}
	lm.Close()
	r.RateRPS = float64(int(rate))
	r.P50Ms, r.P99Ms, r.P999Ms = ms(lm.Latencies.P50), ms(lm.Latencies.P99), ms(lm.Latencies.Quantile(0.999))
	if e := 1 - lm.Success; e > r.Errors {
		r.Errors = e
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quoteThenConvert is a closed loop of s.concurrency clients, each asking
// for a quote and converting at it, for s.closedFor: pairs per second and
// the latency of a pair (closed loop: a slow answer delays the next pair,
// so its percentiles understate queueing).
func quoteThenConvert(s settings, apiURL, key string) Result {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: s.concurrency}}
	send := func(path, body string) ([]byte, int, error) {
		req, _ := http.NewRequest("POST", apiURL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	var errs atomic.Int64
	lat := make([][]time.Duration, s.concurrency)
	deadline := time.Now().Add(s.closedFor)
	start := time.Now()
	done := make(chan struct{})
	for i := 0; i < s.concurrency; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				b, code, err := send("/api/v1/quotes", `{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`)
				var q struct {
					ID string `json:"id"`
				}
				if err != nil || code != 201 || json.Unmarshal(b, &q) != nil || q.ID == "" {
					errs.Add(1)
					continue
				}
				if _, code, err := send("/api/v1/convert", `{"quote_id":"`+q.ID+`"}`); err != nil || code != 201 {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}(i)
	}
	for i := 0; i < s.concurrency; i++ {
		<-done
	}
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := Result{Scenario: "quote, then convert at its price (pairs)", MaxRPS: float64(len(all)) / elapsed.Seconds()}
	if n := len(all); n > 0 {
		r.P50Ms, r.P99Ms, r.P999Ms = ms(all[n/2]), ms(all[n*99/100]), ms(all[n*999/1000])
		r.Errors = float64(errs.Load()) / float64(int64(n)+errs.Load())
	} else {
		r.Errors = 1
	}
	return r
}

// cpuPerRequest runs an open loop at rate for cpuDuration and returns
// proc's CPU time over the run divided by the requests answered, in
// microseconds. An answer with another status than want counts as an
// error (want 0: any 2xx or 3xx).
func cpuPerRequest(s settings, proc *process, name string, t vegeta.Targeter, rate, want int) (Result, error) {
	d := cpuDuration(s)
	open := vegeta.NewAttacker(vegeta.Workers(uint64(s.concurrency)), vegeta.MaxWorkers(uint64(4*s.concurrency)),
		vegeta.Connections(s.concurrency), vegeta.MaxConnections(s.concurrency), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	before, err := proc.cpuSeconds()
	if err != nil {
		return Result{}, err
	}
	var m vegeta.Metrics
	var wrong int
	for res := range open.Attack(t, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d, name) {
		if want != 0 && int(res.Code) != want {
			wrong++
		}
		m.Add(res)
	}
	m.Close()
	after, err := proc.cpuSeconds()
	if err != nil {
		return Result{}, err
	}
	errRatio := 1 - m.Success
	if want != 0 && m.Requests > 0 {
		errRatio = float64(wrong) / float64(m.Requests)
	}
	r := Result{Scenario: name, RateRPS: float64(rate), Errors: errRatio,
		P50Ms: ms(m.Latencies.P50), P99Ms: ms(m.Latencies.P99), P999Ms: ms(m.Latencies.Quantile(0.999))}
	if m.Requests > 0 {
		r.CPUUsPerReq = (after - before) / float64(m.Requests) * 1e6
	}
	say("%s: pid %d, %.2f s of CPU over %d requests", name, proc.cmd.Process.Pid, after-before, m.Requests)
	r.APIRSSMB, r.APIHeapMB = proc.rssMB(), proc.heapMB()
	return r, nil
}
