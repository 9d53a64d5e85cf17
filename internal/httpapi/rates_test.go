package httpapi_test

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRatesGolden(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	tests := []struct {
		name, target string
		headers      []string
	}{
		{"latest_direct", "/api/v1/rates?from=EUR&to=USD", nil},
		{"latest_inverse", "/api/v1/rates?from=USD&to=EUR", nil},
		{"latest_cross", "/api/v1/rates?from=USD&to=GBP", nil},
		{"latest_same", "/api/v1/rates?from=USD&to=USD", nil},
		{"all_from_usd", "/api/v1/rates?from=USD", nil},
		{"at_instant", "/api/v1/rates?from=USD&to=JPY&at=2017-01-10T12:00:00Z", nil},
		{"at_date", "/api/v1/rates?from=EUR&to=USD&at=2017-01-14", nil},
		{"history", "/api/v1/rates/history?from=USD&to=GBP&start=2017-02-27&end=2017-03-03", nil},
		{"currencies", "/api/v1/currencies", nil},
		{"healthz", "/healthz", nil},
		{"readyz", "/readyz", nil},
		{"latest_lowercase", "/api/v1/rates?from=usd&to=eur", nil},
		{"err_two_letters", "/api/v1/rates?from=US&to=EUR", nil},
		{"err_not_iso", "/api/v1/rates?from=USD&to=BTC", nil},
		{"err_missing_from", "/api/v1/rates?to=EUR", nil},
		{"err_bad_at", "/api/v1/rates?from=USD&to=EUR&at=yesterday", nil},
		{"err_at_without_to", "/api/v1/rates?from=USD&at=2017-01-10", nil},
		{"err_history_too_long", "/api/v1/rates/history?from=USD&to=GBP&start=2016-01-01&end=2017-03-03", nil},
		{"err_history_reversed", "/api/v1/rates/history?from=USD&to=GBP&start=2017-03-03&end=2017-03-01", nil},
		{"err_history_missing_end", "/api/v1/rates/history?from=USD&to=GBP&start=2017-03-03", nil},
		{"err_not_quoted", "/api/v1/rates?from=USD&to=NGN", nil},
		{"err_at_before_history", "/api/v1/rates?from=USD&to=GBP&at=2010-01-01", nil},
		{"err_no_route", "/api/v1/nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, w.get(t, tt.target, tt.headers...))
		})
	}
}

func TestNotModified(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	first := w.get(t, "/api/v1/rates?from=USD&to=GBP")
	etag := first.Header.Get("Etag")
	if first.Status != 200 || etag == "" {
		t.Fatalf("first: %d, etag %q", first.Status, etag)
	}
	// Time passes (age_seconds changes) but the rate does not: still 304.
	w.now = w.now.Add(time.Minute)
	if r := w.get(t, "/api/v1/rates?from=USD&to=GBP", "If-None-Match", etag); r.Status != 304 || len(r.Body) != 0 {
		t.Fatalf("revalidation: %d %s", r.Status, r.Body)
	}
	if r := w.get(t, "/api/v1/rates?from=USD&to=JPY", "If-None-Match", etag); r.Status != 200 {
		t.Fatalf("another pair with the same etag: %d", r.Status)
	}
}

func TestNoRatesYet(t *testing.T) {
	w := newWorld(t, options{lastError: "FetchRates is retrying (attempt 3): provider ecb: GET https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml: dial tcp: lookup www.ecb.europa.eu: no such host"})
	golden(t, "err_no_rates_yet", w.get(t, "/api/v1/rates?from=USD&to=EUR"))
	golden(t, "err_no_rates_yet_currencies", w.get(t, "/api/v1/currencies"))
}

func TestStaleWhileIngestionFails(t *testing.T) {
	w := newWorld(t, options{now: time.Date(2017, 3, 10, 12, 0, 0, 0, time.UTC)})
	w.ingest(t, ecbHistory(t)[0])
	r := w.get(t, "/api/v1/rates?from=EUR&to=USD")
	var body struct {
		Rate       string `json:"rate"`
		Stale      bool   `json:"stale"`
		AgeSeconds int64  `json:"age_seconds"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// 2017-03-03T15:00Z to 2017-03-10T12:00Z: 6 days 21 hours, past 97 h.
	if !body.Stale || body.AgeSeconds != 594000 || body.Rate != "1.0565" {
		t.Fatalf("got %+v, want the last known good rate marked stale", body)
	}
}

func TestCrossAndInverseOnOpenExchangeRates(t *testing.T) {
	w := newWorld(t, options{provider: "openexchangerates", now: time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)})
	w.ingest(t, oxrLatest(t))
	// Expected values computed independently with Python's decimal module
	// (precision 20, ROUND_HALF_EVEN) from the fixture's rates.
	tests := []struct {
		from, to, want string
		legs           int
	}{
		{"USD", "NGN", "418.065024", 1},
		{"NGN", "USD", "0.0023919724028384637123", 1},
		{"EUR", "NGN", "419.04727080276167336", 2},
		{"GBP", "JPY", "161.63867609381101755", 2},
	}
	for _, tt := range tests {
		t.Run(tt.from+tt.to, func(t *testing.T) {
			r := w.get(t, "/api/v1/rates?from="+tt.from+"&to="+tt.to)
			var body struct {
				Rate string            `json:"rate"`
				Legs []json.RawMessage `json:"legs"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if body.Rate != tt.want || len(body.Legs) != tt.legs {
				t.Fatalf("rate = %s with %d legs, want %s with %d", body.Rate, len(body.Legs), tt.want, tt.legs)
			}
		})
	}
}
