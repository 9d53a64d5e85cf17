package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.temporal.io/sdk/client"

	"ces/internal/cache"
)

// bench is what the scenarios share.
type bench struct {
	s                                             settings
	tc                                            client.Client
	c                                             *cache.Cache
	queue, apiKey, keyedKey                       string
	api, multi, frozen, floor                     *process
	apiURL, multiURL, floorURL, rawURL, frozenURL string
	ecbDownloads                                  *atomic.Int64
}

// floors measures the Fiber and raw floors alone, for a stage run without
// the scaled scenarios (BENCH_ONLY).
func (b *bench) floors(ctx context.Context) (httpFloor, rawFloor Result, err error) {
	httpFloor, rawFloor = b.measureFloors("scaled")
	return httpFloor, rawFloor, ctx.Err()
}

// measureFloors measures the Fiber floor's max throughput, then the raw
// floor at half of it, the offered rate of every lookup's latency run.
func (b *bench) measureFloors(dbLabel string) (httpFloor, rawFloor Result) {
	get := func(url string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	}
	say("[%s] Fiber floor", dbLabel)
	httpFloor = measure(b.s, "Fiber floor", get(b.floorURL+"/rate"), 0)
	httpFloor.Database, httpFloor.Target = dbLabel, "the floor (Fiber, constant body)"
	say("[%s] raw floor", dbLabel)
	rawFloor = measure(b.s, "raw floor", get(b.rawURL+"/rate"), httpFloor.MaxRPS/2)
	rawFloor.Database, rawFloor.Target = dbLabel, "the floor (fasthttp, pre-encoded bytes)"
	rawFloor.Ratio = rawFloor.MaxRPS / httpFloor.MaxRPS
	return httpFloor, rawFloor
}

// scenarios measures the floors and every scenario once, on whatever the
// database holds now.
func (b *bench) scenarios(ctx context.Context, dbLabel string) ([]Result, error) {
	s := b.s
	var out []Result
	get := func(url string) vegeta.Targeter {
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	}
	post := func(url, body string) vegeta.Targeter {
		h := http.Header{"Content-Type": []string{"application/json"}, "Authorization": []string{"Bearer " + b.apiKey}}
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Body: []byte(body), Header: h})
	}

	httpFloor, rawFloor := b.measureFloors(dbLabel)
	// Every lookup, and the raw floor, is measured at the same offered rate.
	offered := httpFloor.MaxRPS / 2
	out = append(out, rawFloor, httpFloor)

	against := func(r Result, proc *process, minRatio float64) Result {
		return judge(r, proc, minRatio, dbLabel, httpFloor, rawFloor)
	}
	lookups := []struct {
		name, url string
		proc      *process
		min       float64
	}{
		{"latest direct pair", b.apiURL + "/api/v1/rates?from=USD&to=NGN", b.api, 0.8},
		{"latest cross rate", b.apiURL + "/api/v1/rates?from=EUR&to=GBP", b.api, 0.8},
		{"historical at=", b.apiURL + "/api/v1/rates?from=USD&to=NGN&at=2022-09-01T12:00:00Z", b.api, 0.7},
		{"multi-source: direct (ECB)", b.multiURL + "/api/v1/rates?from=EUR&to=GBP", b.multi, 0.8},
		{"multi-source: cross across ECB and CBN", b.multiURL + "/api/v1/rates?from=PLN&to=NGN", b.multi, 0.8},
		{"multi-source: historical at= cross", b.multiURL + "/api/v1/rates?from=GBP&to=JPY&at=2026-02-20T12:00:00Z", b.multi, 0.7},
		{"history: 31 days of a cross pair", b.multiURL + "/api/v1/rates/history?from=GBP&to=JPY&start=2026-02-15&end=2026-03-17", b.multi, 0.3},
	}
	for i, l := range lookups {
		// Each answer is checked once before it is measured.
		body, err := httpGet(l.url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		for name, rule := range map[string]string{"across": "cross_provider", "direct": "direct", "cross rate": "cross"} {
			if strings.Contains(l.name, name) && !strings.Contains(string(body), `"rule":"`+rule+`"`) {
				return nil, fmt.Errorf("%s is not priced by the rule %s: %s", l.name, rule, body)
			}
		}
		say("[%s] %s", dbLabel, l.name)
		var profiled chan struct{}
		if dbLabel == "small" {
			addr := pprofAddr
			if l.proc == b.multi {
				addr = multiPprofAddr
			}
			profiled = profile(fmt.Sprintf("lookup-%d", i), addr, int(s.closedFor.Seconds()))
		}
		r := measure(s, l.name, get(l.url), offered)
		if profiled != nil {
			<-profiled
		}
		out = append(out, against(r, l.proc, l.min))
	}

	cpu, err := b.serverCPU(dbLabel)
	if err != nil {
		return nil, err
	}
	out = withCPU(out, cpu)

	// With Redis frozen, lookups read PostgreSQL once the first Redis read
	// has timed out; only a background probe waits on Redis after that.
	say("[%s] latest direct pair, Redis frozen", dbLabel)
	httpGet(b.frozenURL + "/api/v1/rates?from=USD&to=NGN") // the one read that waits
	time.Sleep(time.Second)
	fr := measure(s, "latest direct pair, Redis frozen", get(b.frozenURL+"/api/v1/rates?from=USD&to=NGN"), 0)
	fr.Database, fr.Floor, fr.FloorRPS = dbLabel, "Fiber", httpFloor.MaxRPS
	fr.Ratio, fr.RawRatio = fr.MaxRPS/httpFloor.MaxRPS, fr.MaxRPS/rawFloor.MaxRPS
	fr.APIRSSMB, fr.APIHeapMB = b.frozen.rssMB(), b.frozen.heapMB()
	okFrozen := fr.P99Ms <= 50 && fr.Errors == 0
	fr.Target, fr.Met = "p99 ≤ 50 ms after the first second, at half its max req/s, no errors", &okFrozen
	out = append(out, fr)

	say("[%s] insert floor", dbLabel)
	insFloor := measure(s, "insert floor", post(b.floorURL+"/insert", "{}"), 0)
	insFloor.Database, insFloor.Target = dbLabel, "the floor (one INSERT)"
	out = append(out, insFloor)

	say("[%s] POST /convert", dbLabel)
	var profiled chan struct{}
	if dbLabel == "small" {
		profiled = profile("convert", pprofAddr, int(s.closedFor.Seconds()))
	}
	conv := measure(s, "POST /convert", post(b.apiURL+"/api/v1/convert", `{"amount":"500.00","from_currency":"USD","to_currency":"NGN"}`), insFloor.MaxRPS/2)
	if profiled != nil {
		<-profiled
	}
	conv.Database, conv.Floor, conv.FloorRPS = dbLabel, "insert", insFloor.MaxRPS
	conv.Ratio = conv.MaxRPS / insFloor.MaxRPS
	if insFloor.P99Ms > 0 {
		conv.P99Ratio = conv.P99Ms / insFloor.P99Ms
	}
	conv.APIRSSMB, conv.APIHeapMB = b.api.rssMB(), b.api.heapMB()
	ok := conv.Ratio >= 0.9 && conv.P99Ratio <= 1.5 && conv.Errors == 0
	conv.Target, conv.Met = "≥0.9× insert floor, p99 ≤ 1.5× its p99", &ok
	out = append(out, conv)

	say("[%s] quote, then convert at its price", dbLabel)
	qc := quoteThenConvert(s, b.apiURL, b.apiKey)
	qc.Database, qc.Floor, qc.FloorRPS = dbLabel, "insert", insFloor.MaxRPS
	qc.Ratio = 2 * qc.MaxRPS / insFloor.MaxRPS // two rows written per pair
	qc.APIRSSMB, qc.APIHeapMB = b.api.rssMB(), b.api.heapMB()
	qc.Target = "reported: pairs/s; ratio counts the two inserts of a pair"
	out = append(out, qc)

	say("[%s] ingestion, median of 5", dbLabel)
	var took []time.Duration
	for i := 0; i < 5; i++ {
		d, err := ingest(ctx, b.tc, b.c, b.queue)
		if err != nil {
			return nil, err
		}
		took = append(took, d)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	ing := Result{Scenario: "ingestion (169 codes)", Database: dbLabel, P50Ms: ms(took[2]), P99Ms: ms(took[4]), P999Ms: ms(took[4])}
	okIng := took[2] <= time.Second
	ing.Target, ing.Met = "trigger → Redis updated ≤ 1 s median", &okIng
	out = append(out, ing)

	if dbLabel == "scaled" {
		// A year of the ECB's history, from one download of its file.
		say("[%s] a year's backfill (ECB, 2025)", dbLabel)
		res, err := backfill(ctx, b.tc, b.queue, b.ecbDownloads, "2025-01-01", "2025-12-31")
		if err != nil {
			return nil, err
		}
		bf := Result{Scenario: fmt.Sprintf("backfill: a year of the ECB (%d days, %d rows)", res.Days, res.Inserted), Database: dbLabel,
			TookS: res.took.Seconds(), Downloads: res.downloads}
		okBF := res.took <= 30*time.Second && res.downloads == 1 && res.Days >= 250
		bf.Target, bf.Met = "≤ 30 s, one download", &okBF
		out = append(out, bf)
	}
	return out, nil
}

// judge fills a lookup's ratios to both floors of its run and judges it.
func judge(r Result, proc *process, minRatio float64, dbLabel string, httpFloor, rawFloor Result) Result {
	r.Database, r.Floor, r.FloorRPS = dbLabel, "Fiber", httpFloor.MaxRPS
	r.Ratio, r.RawRatio = r.MaxRPS/httpFloor.MaxRPS, r.MaxRPS/rawFloor.MaxRPS
	if httpFloor.P99Ms > 0 {
		r.P99Ratio = r.P99Ms / httpFloor.P99Ms
	}
	r.APIRSSMB, r.APIHeapMB = proc.rssMB(), proc.heapMB()
	ok := r.Ratio >= minRatio && r.P99Ratio <= 1.5 && r.Errors == 0
	r.Target, r.Met = fmt.Sprintf("≥%.1f× Fiber floor, p99 ≤ 1.5× its p99", minRatio), &ok
	return r
}
