package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// otlpSink is a stand-in OTLP/HTTP collector: it takes every export and
// discards it, answering as a collector does (an empty
// ExportTraceServiceResponse), so that what is measured is what the API
// spends on tracing, not a collector's speed.
func otlpSink() (*httptest.Server, *atomic.Int64) {
	var bytes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	return srv, &bytes
}

// tracingRows runs the tracing stage: the same latest lookup on three
// APIs alike but for tracing (off, which is the bench's main API; on at
// 1% sampling; on at 100%), exporting to otlpSink. Each is measured for
// closed-loop throughput and for CPU per request at cpuRate, in turns,
// s.rounds times; the best throughput and the lowest CPU of each count.
// Ratios are to tracing off in the same run.
func (b *bench) tracingRows(binDir string, apiEnv func(addr string, more ...string) []string) ([]Result, error) {
	s := b.s
	sink, exported := otlpSink()
	defer sink.Close()
	apis := []struct {
		name string
		proc *process
		url  string
	}{{"tracing off", b.api, b.apiURL}}
	for _, on := range []struct{ name, sampler, arg string }{
		{"tracing on, 1% sampled", "parentbased_traceidratio", "0.01"},
		{"tracing on, 100% sampled", "parentbased_always_on", ""},
	} {
		addr := freeAddr()
		p, err := startProcess(filepath.Join(binDir, "api"), addr, apiEnv(addr,
			"OTEL_EXPORTER_OTLP_ENDPOINT="+sink.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_TRACES_SAMPLER="+on.sampler, "OTEL_TRACES_SAMPLER_ARG="+on.arg))
		if err != nil {
			return nil, err
		}
		defer p.stop()
		apis = append(apis, struct {
			name string
			proc *process
			url  string
		}{on.name, p, "http://" + addr})
	}
	const path = "/api/v1/rates?from=USD&to=NGN"
	best := make([]Result, len(apis))
	for i := 0; i < s.rounds; i++ {
		for j, a := range apis {
			t := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: a.url + path})
			name := a.name + ": latest direct pair"
			say("[tracing] %s: throughput, then CPU at %d req/s", name, cpuRate)
			rps, errRatio := maxThroughput(s, name, t)
			r, err := cpuPerRequest(s, a.proc, name, t, cpuRate, 200)
			if err != nil {
				return nil, err
			}
			r.MaxRPS, r.Errors = rps, max(r.Errors, errRatio)
			if i == 0 {
				best[j] = r
				continue
			}
			best[j].MaxRPS = max(best[j].MaxRPS, r.MaxRPS)
			best[j].Errors = max(best[j].Errors, r.Errors)
			if r.CPUUsPerReq < best[j].CPUUsPerReq {
				cpu, maxRPS, errs := r.CPUUsPerReq, best[j].MaxRPS, best[j].Errors
				best[j] = r
				best[j].CPUUsPerReq, best[j].MaxRPS, best[j].Errors = cpu, maxRPS, errs
			}
		}
	}
	off := best[0]
	for j := range best {
		best[j].Database = "small"
		if j == 0 {
			best[j].Target = "reported: the reference for the two rows below"
			continue
		}
		best[j].Floor = "tracing off"
		best[j].FloorRPS = off.MaxRPS
		if off.MaxRPS > 0 {
			best[j].Ratio = best[j].MaxRPS / off.MaxRPS
		}
		cpuRatio := 0.0
		if off.CPUUsPerReq > 0 {
			cpuRatio = best[j].CPUUsPerReq / off.CPUUsPerReq
		}
		best[j].Target = fmt.Sprintf("reported: %.2f× tracing off's CPU per request (%.0f µs)", cpuRatio, off.CPUUsPerReq)
	}
	say("[tracing] the OTLP sink took %d bytes", exported.Load())
	return best, nil
}
