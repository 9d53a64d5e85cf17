package main

import (
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// cpuScenario is one request whose server CPU time is measured: its
// target, the process that serves it, the status it must answer and its
// target as a multiple of a reference's CPU per request (the Fiber
// floor's, or a 200's of the same run when of names one: the 200 of the
// same kind of request on the same API, so that the ratio is what the
// error path adds).
type cpuScenario struct {
	name   string
	target vegeta.Target
	proc   *process
	status int
	limit  float64
	of     string // "" for the Fiber floor
}

// serverCPU measures, at one offered rate (cpuRate), every lookup's
// server CPU time per request, a 404, a 400 and a keyed lookup's, and the
// Fiber floor's, alternately for up to two rounds, the lowest of each
// counting (a neighbour's load can only add to it). Each row holds the
// figure, its ratio to the floor's and its target (issue 29).
func (b *bench) serverCPU(dbLabel string) ([]Result, error) {
	floorProc := b.floor
	get := func(url string) vegeta.Target { return vegeta.Target{Method: "GET", URL: url} }
	keyed := get(b.apiURL + "/api/v1/rates?from=USD&to=NGN")
	keyed.Header = http.Header{"Authorization": []string{"Bearer " + b.keyedKey}}
	scenarios := []cpuScenario{
		{"Fiber floor", get(b.floorURL + "/rate"), floorProc, 200, 0, ""},
		{"latest direct pair", get(b.apiURL + "/api/v1/rates?from=USD&to=NGN"), b.api, 200, 1.5, ""},
		{"latest cross rate", get(b.apiURL + "/api/v1/rates?from=EUR&to=GBP"), b.api, 200, 1.5, ""},
		{"historical at=", get(b.apiURL + "/api/v1/rates?from=USD&to=NGN&at=2022-09-01T12:00:00Z"), b.api, 200, 1.5, ""},
		{"multi-source: direct (ECB)", get(b.multiURL + "/api/v1/rates?from=EUR&to=GBP"), b.multi, 200, 1.5, ""},
		{"multi-source: cross across ECB and CBN", get(b.multiURL + "/api/v1/rates?from=PLN&to=NGN"), b.multi, 200, 1.5, ""},
		{"multi-source: historical at= cross", get(b.multiURL + "/api/v1/rates?from=GBP&to=JPY&at=2026-02-20T12:00:00Z"), b.multi, 200, 1.5, ""},
		{"history: 31 days of a cross pair", get(b.multiURL + "/api/v1/rates/history?from=GBP&to=JPY&start=2026-02-15&end=2026-03-17"), b.multi, 200, 2, ""},
		{"keyed: latest direct pair with an API key (authentication, Redis quota)", keyed, b.api, 200, 2, ""},
		{"404: at= before any rate", get(b.apiURL + "/api/v1/rates?from=USD&to=NGN&at=2000-01-03T12:00:00Z"), b.api, 404, 1.1, "historical at="},
		{"400: unknown currency", get(b.apiURL + "/api/v1/rates?from=USD&to=XXY"), b.api, 400, 1.1, "latest direct pair"},
	}
	rounds := b.s.rounds
	best := make([]Result, len(scenarios))
	for round := 0; round < rounds; round++ {
		for i, sc := range scenarios {
			say("[%s] server CPU, round %d of %d: %s at %d req/s", dbLabel, round+1, rounds, sc.name, cpuRate)
			var profiled chan struct{}
			if round == 0 && dbLabel == "small" && sc.proc != floorProc {
				addr := pprofAddr
				if sc.proc == b.multi {
					addr = multiPprofAddr
				}
				profiled = profile(fmt.Sprintf("cpu-%d", i), addr, int(cpuDuration(b.s).Seconds())-1)
			}
			r, err := cpuPerRequest(b.s, sc.proc, sc.name, vegeta.NewStaticTargeter(sc.target), cpuRate, sc.status)
			if profiled != nil {
				<-profiled
			}
			if err != nil {
				return nil, err
			}
			if round == 0 || r.CPUUsPerReq < best[i].CPUUsPerReq {
				best[i] = r
			}
		}
	}
	floor := best[0].CPUUsPerReq
	byName := map[string]float64{}
	for i, sc := range scenarios {
		r := &best[i]
		r.Database = dbLabel
		byName[sc.name] = r.CPUUsPerReq
		if floor > 0 {
			r.CPURatio = r.CPUUsPerReq / floor
		}
		if sc.limit == 0 {
			r.CPUTarget = "the floor"
			continue
		}
		ok := r.Errors == 0
		switch {
		case sc.of == "":
			ok = ok && r.CPURatio <= sc.limit
			r.CPUTarget = fmt.Sprintf("≤ %.1f× Fiber floor's", sc.limit)
		case byName[sc.of] > 0:
			ok = ok && r.CPUUsPerReq <= sc.limit*byName[sc.of]
			r.CPUTarget = fmt.Sprintf("≤ %.1f× the 200's (%s, %.0f µs)", sc.limit, sc.of, byName[sc.of])
		}
		r.CPUMet = &ok
	}
	return best, nil
}

// cpuDuration is the length of one server-CPU run: at least 8 s, so that
// the clock ticks CPU time is counted in are small against it.
func cpuDuration(s settings) time.Duration { return max(s.openFor, 8*time.Second) }

// withCPU copies the server-CPU figures onto the rows of the same
// scenario and appends those (the 404, the 400) that have no row.
func withCPU(rows, cpu []Result) []Result {
	for _, c := range cpu {
		found := false
		for i := range rows {
			if rows[i].Scenario == c.Scenario && rows[i].Database == c.Database {
				rows[i].CPUUsPerReq, rows[i].CPURatio, rows[i].CPUTarget, rows[i].CPUMet = c.CPUUsPerReq, c.CPURatio, c.CPUTarget, c.CPUMet
				found = true
			}
		}
		if !found {
			c.Target = "server CPU only (latency: of its run at the CPU rate)"
			rows = append(rows, c)
		}
	}
	return rows
}
