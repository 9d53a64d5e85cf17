package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// answer is one request of the load and what came back.
type answer struct {
	sent   time.Time
	took   time.Duration
	status int // 0: no answer (connection refused, reset, client timeout)
	err    error
	body   []byte
	// key is the Idempotency-Key the request sent or the answer returned.
	key string
}

// errorCode is the error contract's code of a non-2xx answer.
func (a answer) errorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// load drives clients concurrent clients, each sending at most one
// request per every, for dur: bounded in count (clients × dur/every) and
// in time. Each client waits for its answer before the next request.
func load(ctx context.Context, clients int, every, dur time.Duration, do func(ctx context.Context, client, n int) answer) []answer {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex
	var out []answer
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for n := 0; ; n++ {
				a := do(context.WithoutCancel(ctx), c, n)
				mu.Lock()
				out = append(out, a)
				mu.Unlock()
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// httpClient is the load's client: keep-alive, and a timeout longer than
// the API's REQUEST_TIMEOUT (a patient client) unless said otherwise.
func httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}
}

func send(hc *http.Client, req *http.Request) answer {
	a := answer{sent: time.Now(), key: req.Header.Get("Idempotency-Key")}
	resp, err := hc.Do(req)
	if err != nil {
		a.took, a.err = time.Since(a.sent), err
		return a
	}
	a.body, a.err = io.ReadAll(resp.Body)
	resp.Body.Close()
	a.took, a.status = time.Since(a.sent), resp.StatusCode
	if k := resp.Header.Get("Idempotency-Key"); k != "" {
		a.key = k
	}
	return a
}

func get(ctx context.Context, hc *http.Client, url string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return answer{err: err}
	}
	return send(hc, req)
}

// clientKey is the API key the suite's conversions are sent with (made
// by starter apikey create when the stack starts).
var clientKey string

// convert posts a conversion; key "" sends none, so CES makes one.
func convert(ctx context.Context, hc *http.Client, base, key string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/convert",
		strings.NewReader(`{"amount":"250.00","from_currency":"USD","to_currency":"JPY"}`))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+clientKey)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return send(hc, req)
}

// post sends body with an Authorization header.
func post(ctx context.Context, url, body, authorization string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", authorization)
	return send(http.DefaultClient, req)
}

// summary counts answers by status ("201×40 503×3 none×2").
func summary(as []answer) string {
	counts := map[int]int{}
	for _, a := range as {
		counts[a.status]++
	}
	var keys []int
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "none"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, counts[k]))
	}
	if len(parts) == 0 {
		return "no requests"
	}
	return strings.Join(parts, " ")
}

// p99 is the 99th percentile latency of answers sent at or after from.
func p99(as []answer, from time.Time) (time.Duration, int) {
	var ds []time.Duration
	for _, a := range as {
		if !a.sent.Before(from) {
			ds = append(ds, a.took)
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[(len(ds)*99+99)/100-1], len(ds)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// lookupLoad drives clients lookup clients, each sending at most one
// request per every, for dur.
func (s *stack) lookupLoad(ctx context.Context, hc *http.Client, clients int, every, dur time.Duration) []answer {
	return load(ctx, clients, every, dur, func(ctx context.Context, _, _ int) answer {
		return get(ctx, hc, s.apiURL+lookupPath)
	})
}

// conversionLoad drives clients conversion clients the same way: the
// even-numbered ones send an Idempotency-Key of their own, the others
// none, so CES makes one for them.
func (s *stack) conversionLoad(ctx context.Context, hc *http.Client, name string, clients int, every, dur time.Duration) []answer {
	return load(ctx, clients, every, dur, func(ctx context.Context, c, n int) answer {
		key := ""
		if c%2 == 0 {
			key = fmt.Sprintf("faults-%s-%d-%d", name, c, n)
		}
		return convert(ctx, hc, s.apiURL, key)
	})
}

// all reports whether there are answers and each satisfies ok.
func all(as []answer, ok func(answer) bool) bool {
	for _, a := range as {
		if !ok(a) {
			return false
		}
	}
	return len(as) > 0
}

func created(a answer) bool { return a.status == 201 }

func dbUnavailable(a answer) bool { return a.status == 503 && a.errorCode() == "database_unavailable" }
