package httpapi_test

import (
	"regexp"
	"strconv"
	"testing"
)

// metricValue reads one sample from the Prometheus text format.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("series %s not found in /metrics", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMetricsCountWhatHappened(t *testing.T) {
	w := newWorld(t, options{metrics: true})
	w.ingest(t, ecbHistory(t)...)
	for _, target := range []string{
		"/api/v1/rates?from=EUR&to=USD", // cache hit
		"/api/v1/rates?from=USD&to=GBP", // cache hit
		"/api/v1/rates?from=USD&to=NGN", // ECB has no NGN: 404 from the cached set, no PostgreSQL
	} {
		w.get(t, target)
	}
	w.post(t, "/api/v1/convert", `{"amount":"10.00","from_currency":"USD","to_currency":"GBP"}`)                           // cache hit, created
	w.post(t, "/api/v1/convert", `{"amount":"10.00","from_currency":"USD","to_currency":"GBP"}`, "Idempotency-Key", "m-1") // cache hit, created
	w.post(t, "/api/v1/convert", `{"amount":"10.00","from_currency":"USD","to_currency":"GBP"}`, "Idempotency-Key", "m-1") // replayed
	w.post(t, "/api/v1/convert", `{"amount":"-1","from_currency":"USD","to_currency":"GBP"}`)                              // invalid_amount

	r := w.adminGet(t, "/metrics")
	if r.Status != 200 {
		t.Fatalf("/metrics: %d", r.Status)
	}
	text := string(r.Body)
	checks := []struct {
		series string
		want   float64
	}{
		{`ces_rate_cache_hits_total`, 5},
		{`ces_rate_cache_misses_total`, 0},
		{`ces_conversions_total{outcome="created"}`, 2},
		{`ces_conversions_total{outcome="replayed"}`, 1},
		{`ces_conversions_total{outcome="invalid_amount"}`, 1},
		{`ces_http_request_duration_seconds_count{method="GET",route="/api/v1/rates",status="200"}`, 2},
		{`ces_http_request_duration_seconds_count{method="GET",route="/api/v1/rates",status="404"}`, 1},
		{`ces_http_request_duration_seconds_count{method="POST",route="/api/v1/convert",status="201"}`, 2},
		// The newest ECB rate (2017-03-03T15:00Z) seen from 2017-03-06T12:00Z.
		{`ces_rate_age_seconds{provider="ecb"}`, 248400},
	}
	for _, c := range checks {
		if got := metricValue(t, text, c.series); got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
}
