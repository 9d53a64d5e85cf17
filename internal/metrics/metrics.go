// Package metrics exposes CES's Prometheus metrics: HTTP latency, the rate
// cache, conversions and rate age for the API; ingestion counts and the
// Temporal SDK's own metrics for the worker.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tclient "go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"ces/internal/cache"
	"ces/internal/policy"
	"ces/internal/rates"
)

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// API holds the API process's metrics.
type API struct {
	reg         *prometheus.Registry
	requests    *prometheus.HistogramVec
	cacheHits   prometheus.Counter
	cacheMisses prometheus.Counter
	fallbacks   *prometheus.CounterVec
	conversions *prometheus.CounterVec
	unchecked   prometheus.Counter
	deps        *prometheus.GaugeVec
	// observers keeps each request series' histogram once looked up, so
	// that recording a request neither formats its status nor hashes its
	// labels (bounded: routes and methods are the router's, statuses few).
	observersMu sync.RWMutex
	observers   map[requestSeries]prometheus.Observer
}

// requestSeries is one series of ces_http_request_duration_seconds.
type requestSeries struct {
	route, method string
	status        int
}

// maxObservers bounds the observers kept; past it, a series is looked up
// on each request as before.
const maxObservers = 1024

// NewestRate reports the as_of of the newest stored rate of a provider.
type NewestRate func(ctx context.Context, provider string) (time.Time, bool, error)

// NewAPI registers the API metrics. newest feeds ces_rate_age_seconds for
// each of providers at scrape time.
func NewAPI(providers []string, newest NewestRate, now func() time.Time) *API {
	m := &API{
		reg: newRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ces_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ces_rate_cache_hits_total", Help: "Latest-rate lookups answered from Redis.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ces_rate_cache_misses_total", Help: "Latest-rate lookups Redis could not answer (miss or error).",
		}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ces_rate_db_fallbacks_total", Help: "Latest-rate lookups answered from PostgreSQL, by why Redis did not answer (miss, error).",
		}, []string{"reason"}),
		conversions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ces_conversions_total", Help: "Conversion requests by outcome (created, replayed, or the error code).",
		}, []string{"outcome"}),
		unchecked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ces_quota_unchecked_total", Help: "Requests let through without a quota check because Redis could not answer (quotas fail open).",
		}),
		deps: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ces_dependency_up", Help: "1 when the newest readiness check of a dependency (postgres, postgres_writes, redis, temporal) passed, 0 when it failed.",
		}, []string{"dependency"}),
	}
	m.reg.MustRegister(m.requests, m.cacheHits, m.cacheMisses, m.fallbacks, m.conversions, m.unchecked, m.deps,
		&rateAge{providers: providers, newest: newest, now: now,
			desc: prometheus.NewDesc("ces_rate_age_seconds", "Age of the newest stored rate, by provider.", []string{"provider"}, nil)})
	return m
}

// OldestUnsealed reports when the oldest audit row no seal covers was
// written; false when every row is sealed.
type OldestUnsealed func(ctx context.Context) (time.Time, bool, error)

// WatchSealing adds ces_audit_oldest_unsealed_seconds, read from oldest
// at scrape time: 0 when every row is sealed, absent when the database
// cannot say. Sealing runs every minute; a value that keeps growing means
// a long transaction somewhere in the cluster holds the seal back.
func (m *API) WatchSealing(oldest OldestUnsealed, now func() time.Time) {
	m.reg.MustRegister(&unsealedAge{oldest: oldest, now: now,
		desc: prometheus.NewDesc("ces_audit_oldest_unsealed_seconds", "Age of the oldest audit row not yet covered by a seal (0: all sealed).", nil, nil)})
}

// WatchHistoryCache adds the history cache's figures, read from stats
// at scrape time: its size in bytes against its bound, the publications
// it indexes, hits, misses and evictions, and whether it serves (1) or
// every historical answer reads PostgreSQL (0).
func (m *API) WatchHistoryCache(stats func() rates.HistoryCacheStats) {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	m.reg.MustRegister(&historyCache{stats: stats, descs: [7]*prometheus.Desc{
		d("ces_history_cache_bytes", "Estimated bytes the history cache holds."),
		d("ces_history_cache_max_bytes", "The history cache's bound (HISTORY_CACHE_MB)."),
		d("ces_history_cache_publications", "Publications the history cache indexes, all providers."),
		d("ces_history_cache_hits_total", "Historical lookups of a provider's state found in memory."),
		d("ces_history_cache_misses_total", "Historical lookups of a provider's state read from PostgreSQL."),
		d("ces_history_cache_evictions_total", "States evicted to keep the history cache within its bound."),
		d("ces_history_cache_serving", "1 while the history cache listens to PostgreSQL and serves; 0 while historical answers read PostgreSQL."),
	}})
}

// Waiting is what waits for an operator (see store.Waiting).
type Waiting struct {
	Held       int
	OldestHeld time.Time // zero: nothing held
	Suspended  int
}

// WatchWaiting adds ces_quality_held_rates, ces_quality_oldest_held_seconds
// and ces_quality_suspended_pairs, read from waiting at scrape time (one
// query per scrape, none per request); absent when the database cannot
// say.
func (m *API) WatchWaiting(waiting func(ctx context.Context) (Waiting, error), now func() time.Time) {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	m.reg.MustRegister(&waitingCollector{read: waiting, now: now, descs: [3]*prometheus.Desc{
		d("ces_quality_held_rates", "Rates the quality gate holds that no operator has decided on."),
		d("ces_quality_oldest_held_seconds", "Age of the oldest undecided hold of the quality gate (0: none)."),
		d("ces_quality_suspended_pairs", "Currency pairs an operator has suspended."),
	}})
}

type waitingCollector struct {
	read  func(ctx context.Context) (Waiting, error)
	now   func() time.Time
	descs [3]*prometheus.Desc
}

func (w *waitingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range w.descs {
		ch <- d
	}
}

func (w *waitingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := w.read(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if !v.OldestHeld.IsZero() {
		age = max(w.now().Sub(v.OldestHeld).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(w.descs[0], prometheus.GaugeValue, float64(v.Held))
	ch <- prometheus.MustNewConstMetric(w.descs[1], prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(w.descs[2], prometheus.GaugeValue, float64(v.Suspended))
}

// LastVerification reports whether the newest recorded audit verification
// found a problem; false when none was recorded.
type LastVerification func(ctx context.Context) (ok bool, at time.Time, found bool, err error)

// WatchVerification adds ces_audit_verification_ok (1: the newest recorded
// verification found no problem, 0: it did) and
// ces_audit_verification_age_seconds, read at scrape time; both absent
// before the first verification or when the database cannot say.
func (m *API) WatchVerification(last LastVerification, now func() time.Time) {
	m.reg.MustRegister(&verification{last: last, now: now,
		ok:  prometheus.NewDesc("ces_audit_verification_ok", "1 when the newest recorded audit verification found no problem, 0 when it found one.", nil, nil),
		age: prometheus.NewDesc("ces_audit_verification_age_seconds", "Age of the newest recorded audit verification.", nil, nil)})
}

type verification struct {
	last    LastVerification
	now     func() time.Time
	ok, age *prometheus.Desc
}

func (v *verification) Describe(ch chan<- *prometheus.Desc) { ch <- v.ok; ch <- v.age }

func (v *verification) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ok, at, found, err := v.last(ctx)
	if err != nil || !found {
		return
	}
	val := 0.0
	if ok {
		val = 1
	}
	ch <- prometheus.MustNewConstMetric(v.ok, prometheus.GaugeValue, val)
	ch <- prometheus.MustNewConstMetric(v.age, prometheus.GaugeValue, max(v.now().Sub(at).Seconds(), 0))
}

// Dependency records the outcome of a readiness check of one dependency
// (postgres, redis, temporal…): ces_dependency_up is 1 when it answered,
// 0 when it did not. Readiness probes run it, not requests.
func (m *API) Dependency(name string, err error) {
	up := 1.0
	if err != nil {
		up = 0
	}
	m.deps.WithLabelValues(name).Set(up)
}

type historyCache struct {
	stats func() rates.HistoryCacheStats
	descs [7]*prometheus.Desc
}

func (h *historyCache) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range h.descs {
		ch <- d
	}
}

func (h *historyCache) Collect(ch chan<- prometheus.Metric) {
	s := h.stats()
	serving := 0.0
	if s.Ready {
		serving = 1
	}
	for i, v := range []float64{float64(s.Bytes), float64(s.MaxBytes), float64(s.Publications), float64(s.Hits), float64(s.Misses), float64(s.Evictions), serving} {
		kind := prometheus.GaugeValue
		if i >= 3 && i <= 5 {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(h.descs[i], kind, v)
	}
}

type unsealedAge struct {
	oldest OldestUnsealed
	now    func() time.Time
	desc   *prometheus.Desc
}

func (u *unsealedAge) Describe(ch chan<- *prometheus.Desc) { ch <- u.desc }

func (u *unsealedAge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	at, ok, err := u.oldest(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if ok {
		age = max(u.now().Sub(at).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(u.desc, prometheus.GaugeValue, age)
}

// Request records one HTTP request.
func (m *API) Request(route, method string, status int, elapsed time.Duration) {
	k := requestSeries{route, method, status}
	m.observersMu.RLock()
	o, ok := m.observers[k]
	m.observersMu.RUnlock()
	if !ok {
		o = m.requests.WithLabelValues(route, method, strconv.Itoa(status))
		m.observersMu.Lock()
		if m.observers == nil {
			m.observers = map[requestSeries]prometheus.Observer{}
		}
		if len(m.observers) < maxObservers {
			m.observers[k] = o
		}
		m.observersMu.Unlock()
	}
	o.Observe(elapsed.Seconds())
}

// Lookup records where a latest-rate lookup was served from.
func (m *API) Lookup(src rates.Source, cacheErr error) {
	if src == rates.FromCache {
		m.cacheHits.Inc()
		return
	}
	m.cacheMisses.Inc()
	reason := "error"
	if cacheErr == nil || errors.Is(cacheErr, cache.ErrMiss) {
		reason = "miss"
	}
	m.fallbacks.WithLabelValues(reason).Inc()
}

// Conversion records the outcome of one conversion request.
func (m *API) Conversion(outcome string) { m.conversions.WithLabelValues(outcome).Inc() }

// QuotaUnchecked counts a request let through because Redis could not
// check its quota.
func (m *API) QuotaUnchecked() { m.unchecked.Inc() }

// Names lists the metric families the API registers, whether or not they
// have a series yet (a labelled family has none until first used).
func (m *API) Names() []string { return names(m.reg) }

// Names lists the metric families the worker registers itself (the
// Temporal SDK's appear as it reports them).
func (m *Worker) Names() []string { return names(m.reg) }

// fqName finds a Desc's name in its String(), the only place the client
// library shows it.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func names(reg *prometheus.Registry) []string {
	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	var out []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// Handler serves the metrics in the Prometheus text format.
func (m *API) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// rateAge is a collector that reads the newest rate's age when scraped.
type rateAge struct {
	providers []string
	newest    NewestRate
	now       func() time.Time
	desc      *prometheus.Desc
}

func (r *rateAge) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *rateAge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, p := range r.providers {
		asOf, ok, err := r.newest(ctx, p)
		if err != nil || !ok {
			continue // no rate, or no database: the series is absent, not zero
		}
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, r.now().Sub(asOf).Seconds(), p)
	}
}

// Worker holds the worker process's metrics.
type Worker struct {
	reg      *prometheus.Registry
	fetched  *prometheus.CounterVec
	inserted *prometheus.CounterVec
	present  *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	notFinal *prometheus.CounterVec
	held     *prometheus.CounterVec
	// missed, newestAge and health are each publisher's verdict at the
	// newest health check this worker ran.
	missed    *prometheus.GaugeVec
	newestAge *prometheus.GaugeVec
	health    *prometheus.GaugeVec
	temporal  tclient.MetricsHandler
}

// NewWorker registers the worker metrics, including the Temporal SDK's,
// which reach Prometheus through the SDK's OpenTelemetry metrics handler.
func NewWorker(log *slog.Logger) (*Worker, error) {
	m := &Worker{reg: newRegistry()}
	counter := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"provider"})
		m.reg.MustRegister(c)
		return c
	}
	m.fetched = counter("ces_rates_fetched_total", "Rates read from the provider.")
	m.inserted = counter("ces_rates_inserted_total", "Rates inserted into exchange_rates.")
	m.present = counter("ces_rates_already_present_total", "Fetched rates that were already stored.")
	m.skipped = counter("ces_rates_skipped_total", "Provider codes skipped as not ISO 4217.")
	m.notFinal = counter("ces_rates_not_final_total", "Fetched rates not stored because their publication time had not passed at the fetch (a later poll stores them).")
	m.held = counter("ces_rates_quarantined_total", "Stored rates the quality gate held back for an operator.")
	gauge := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"provider"})
		m.reg.MustRegister(g)
		return g
	}
	m.missed = gauge("ces_provider_publications_missed", "Publications due in the health check's window that CES does not have, at the newest check.")
	m.newestAge = gauge("ces_provider_newest_age_seconds", "Age of the newest publication at the newest health check (absent: none stored).")
	m.health = gauge("ces_provider_health_status", "Publisher health at the newest check: 0 healthy, 1 late, 2 silent.")
	exporter, err := otelprom.New(otelprom.WithRegisterer(m.reg))
	if err != nil {
		return nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m.temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:   provider.Meter("temporal-sdk-go"),
		OnError: func(err error) { log.Warn("temporal metrics", "error", err.Error()) },
	})
	return m, nil
}

// Temporal is the handler to give the Temporal client.
func (m *Worker) Temporal() tclient.MetricsHandler { return m.temporal }

// Fetched, Inserted, AlreadyPresent and Skipped count one ingestion's rates.
func (m *Worker) Fetched(provider string, n int) { m.fetched.WithLabelValues(provider).Add(float64(n)) }
func (m *Worker) Inserted(provider string, n int) {
	m.inserted.WithLabelValues(provider).Add(float64(n))
}
func (m *Worker) AlreadyPresent(provider string, n int) {
	m.present.WithLabelValues(provider).Add(float64(n))
}
func (m *Worker) Skipped(provider string, n int) { m.skipped.WithLabelValues(provider).Add(float64(n)) }

// NotFinal counts fetched rates an ingestion did not store because their
// publication was not final yet.
func (m *Worker) NotFinal(provider string, n int) {
	m.notFinal.WithLabelValues(provider).Add(float64(n))
}

// Quarantined counts rates the quality gate held back.
func (m *Worker) Quarantined(provider string, n int) {
	m.held.WithLabelValues(provider).Add(float64(n))
}

// PublisherHealth sets a publisher's health gauges from one check.
func (m *Worker) PublisherHealth(provider string, h policy.Health) {
	m.missed.WithLabelValues(provider).Set(float64(h.Missed))
	if h.Newest.IsZero() {
		m.newestAge.DeleteLabelValues(provider)
	} else {
		m.newestAge.WithLabelValues(provider).Set(h.NewestAge.Seconds())
	}
	status := 0.0
	switch h.Status {
	case policy.Late:
		status = 1
	case policy.Silent:
		status = 2
	}
	m.health.WithLabelValues(provider).Set(status)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Worker) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
