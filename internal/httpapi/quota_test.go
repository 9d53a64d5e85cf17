package httpapi_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"ces/internal/clientaddr"
	"ces/internal/clients"
	"ces/internal/httpapi"
)

func postTo(t *testing.T, app *fiber.App, key, body string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/convert", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// TestQuotaIsSharedByReplicas: two API processes on one Redis draw on one
// allowance per key; the request over it is 429 rate_limited with
// Retry-After and the RateLimit headers, and writes nothing; another key
// has its own allowance; refused keys are not charged.
func TestQuotaIsSharedByReplicas(t *testing.T) {
	quotas := map[string]int{clients.ScopeConvert: 4, clients.ScopeRatesRead: 100}
	w := oxrWorld(t, options{quotas: quotas})
	apps := []*fiber.App{w.app, w.replica(t, quotas)}
	for range 5 { // 401s cost nothing
		if r := postTo(t, apps[1], "ces_unknown", usdEUR); r.Status != 401 {
			t.Fatalf("unknown key: %d", r.Status)
		}
	}
	for i := range 4 {
		r := postTo(t, apps[i%2], w.key, usdEUR)
		if r.Status != 201 || r.Header.Get("RateLimit-Limit") != "4" || r.Header.Get("RateLimit-Remaining") == "" {
			t.Fatalf("request %d on replica %d: %d %v %s", i, i%2, r.Status, r.Header, r.Body)
		}
	}
	before := w.auditRows(t)
	for i, app := range apps {
		r := postTo(t, app, w.key, usdEUR)
		e := decodeErr(t, r)
		if r.Status != 429 || e.Error.Code != "rate_limited" || r.Header.Get("Retry-After") == "" ||
			r.Header.Get("RateLimit-Remaining") != "0" || r.Header.Get("RateLimit-Reset") == "" {
			t.Fatalf("over the quota on replica %d: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	if w.auditRows(t) != before {
		t.Fatal("a request over the quota wrote a conversion")
	}
	other, _ := w.newKey(t, "other", clients.ScopeConvert)
	if r := postTo(t, apps[1], other, usdEUR); r.Status != 201 {
		t.Fatalf("another key: %d %s", r.Status, r.Body)
	}
	// Lookups have their own allowance.
	if r := w.get(t, "/api/v1/rates?from=USD&to=EUR", "Authorization", "Bearer "+w.key); r.Status != 200 || r.Header.Get("RateLimit-Limit") != "100" {
		t.Fatalf("lookup: %d %v", r.Status, r.Header)
	}
}

// TestQuotaFailsOpenWithoutRedis: with Redis unreachable every request is
// served, unchecked, and counted.
func TestQuotaFailsOpenWithoutRedis(t *testing.T) {
	w := oxrWorld(t, options{})
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	var unchecked atomic.Int64
	d := w.deps
	d.Quotas = clients.NewQuotas(dead, "q:", map[string]int{clients.ScopeConvert: 1}, func() { unchecked.Add(1) })
	app := httpapi.New(d)
	for i := range 3 {
		if r := postTo(t, app, w.key, usdEUR); r.Status != 201 || r.Header.Get("RateLimit-Limit") != "" {
			t.Fatalf("request %d with Redis down: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	if n := unchecked.Load(); n != 3 {
		t.Fatalf("%d unchecked requests counted, want 3", n)
	}
}

// TestAnonymousLookupsHaveAQuotaPerAddress: with RATES_PUBLIC, lookups
// without a key are limited per client address, in the API's own memory,
// and over the limit answer 429 as a key over its quota does; another
// address has its own allowance, and a request with a key is not charged
// to its address. Requests come over real connections from two loopback
// addresses, so the address is the one c.IP() reads.
func TestAnonymousLookupsHaveAQuotaPerAddress(t *testing.T) {
	w := oxrWorld(t, options{})
	var now atomic.Int64
	now.Store(time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC).UnixNano())
	d := w.deps
	d.AddressQuotas = clients.NewAddressQuotas(3, func() time.Time { return time.Unix(0, now.Load()) })
	app := httpapi.New(d)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	get := func(t *testing.T, from, key string) response {
		t.Helper()
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}, Timeout: 10 * time.Second}
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/rates?from=USD&to=EUR", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		client.CloseIdleConnections()
		return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	for i := range 3 {
		r := get(t, "127.0.0.1", "")
		if r.Status != 200 || r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("anonymous lookup %d: %d %v %s", i, r.Status, r.Header, r.Body)
		}
	}
	r := get(t, "127.0.0.1", "")
	e := decodeErr(t, r)
	if r.Status != 429 || e.Error.Code != "rate_limited" || r.Header.Get("Retry-After") != "20" ||
		r.Header.Get("RateLimit-Remaining") != "0" || r.Header.Get("RateLimit-Reset") != "60" {
		t.Fatalf("over the anonymous quota: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := get(t, "127.0.0.2", ""); r.Status != 200 || r.Header.Get("RateLimit-Remaining") != "2" {
		t.Fatalf("another address: %d %v %s", r.Status, r.Header, r.Body)
	}
	for range 2 { // a key's requests are the key's, whatever the address
		if r := get(t, "127.0.0.1", w.key); r.Status != 200 {
			t.Fatalf("a keyed lookup from the limited address: %d %s", r.Status, r.Body)
		}
	}
	// One request's worth comes back every 20 s.
	now.Add(int64(20 * time.Second))
	if r := get(t, "127.0.0.1", ""); r.Status != 200 || r.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("20 s later: %d %v %s", r.Status, r.Header, r.Body)
	}
	if r := get(t, "127.0.0.1", ""); r.Status != 429 {
		t.Fatalf("the allowance came back whole: %d", r.Status)
	}
}

// TestAnonymousQuotaPerClientBehindATrustedProxy: behind a trusted proxy
// every request has the proxy's address; the quota counts the client the
// proxy names, so one client's burst does not lock out the others.
func TestAnonymousQuotaPerClientBehindATrustedProxy(t *testing.T) {
	w := oxrWorld(t, options{})
	d := w.deps
	d.TrustedProxies = clientaddr.Proxies{netip.MustParsePrefix("0.0.0.0/32")} // app.Test's peer
	d.AddressQuotas = clients.NewAddressQuotas(2, time.Now)
	app := httpapi.New(d)
	get := func(client string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/rates?from=USD&to=EUR", nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, want := range []int{200, 200, 429} {
		if got := get("203.0.113.7"); got != want {
			t.Fatalf("the first client's request %d: %d, want %d", i+1, got, want)
		}
	}
	if got := get("198.51.100.9"); got != 200 {
		t.Fatalf("another client behind the same proxy: %d, want 200", got)
	}
}
