package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"ces/internal/httpapi"
)

// TestConventionsClientsExpect: lower-case codes, several symbols in one
// lookup, JSON-only POST bodies, one Idempotency-Key, and CORS when
// configured.
func TestConventionsClientsExpect(t *testing.T) {
	w := oxrWorld(t, options{})
	t.Run("symbols", func(t *testing.T) {
		r := w.get(t, "/api/v1/rates?from=usd&symbols=EUR,jpy,GBP,EUR")
		var body struct {
			From  string `json:"from"`
			Rates []struct {
				To   string `json:"to"`
				Rate string `json:"rate"`
			} `json:"rates"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 || body.From != "USD" || len(body.Rates) != 3 ||
			body.Rates[0].To != "EUR" || body.Rates[1].To != "JPY" || body.Rates[2].To != "GBP" || body.Rates[0].Rate != "0.997656" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		for target, status := range map[string]int{
			"/api/v1/rates?from=USD&to=EUR&symbols=JPY": 400,
			"/api/v1/rates?from=USD&symbols=EUR,XYZ":    400,
			"/api/v1/rates?from=USD&symbols=EUR,":       400,
			"/api/v1/rates?from=USD&symbols=EUR,USN":    404,
		} {
			if r := w.get(t, target); r.Status != status {
				t.Errorf("%s: %d %s, want %d", target, r.Status, r.Body, status)
			}
		}
	})
	t.Run("lower-case codes in a conversion", func(t *testing.T) {
		r := w.post(t, "/api/v1/convert", `{"amount":"10.00","from_currency":"usd","to_currency":"eur"}`)
		if r.Status != 201 || !strings.Contains(string(r.Body), `"from_currency":"USD","to_currency":"EUR"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("POST bodies are JSON", func(t *testing.T) {
		before := w.auditRows(t)
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "-"} {
			headers := []string{"Content-Type", ct}
			r := w.do(t, http.MethodPost, "/api/v1/convert", usdEUR, append(headers, "Authorization", "Bearer "+w.key)...)
			if ct == "-" {
				req, _ := http.NewRequest(http.MethodPost, "/api/v1/convert", strings.NewReader(usdEUR))
				req.Header.Set("Authorization", "Bearer "+w.key)
				r = w.send(t, req)
			}
			if e := decodeErr(t, r); r.Status != 415 || e.Error.Code != "unsupported_media_type" {
				t.Fatalf("Content-Type %q: %d %s", ct, r.Status, r.Body)
			}
		}
		if w.auditRows(t) != before {
			t.Fatal("a refused body wrote a conversion")
		}
		if r := w.post(t, "/api/v1/convert", usdEUR, "Content-Type", "application/json; charset=utf-8"); r.Status != 201 {
			t.Fatalf("with a charset: %d %s", r.Status, r.Body)
		}
	})
	t.Run("one Idempotency-Key", func(t *testing.T) {
		before := w.auditRows(t)
		req, _ := http.NewRequest(http.MethodPost, "/api/v1/convert", strings.NewReader(usdEUR))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+w.key)
		req.Header.Add("Idempotency-Key", "a")
		req.Header.Add("Idempotency-Key", "b")
		r := w.send(t, req)
		if e := decodeErr(t, r); r.Status != 400 || e.Error.Field != "Idempotency-Key" || w.auditRows(t) != before {
			t.Fatalf("two keys: %d %s", r.Status, r.Body)
		}
	})
	t.Run("CORS off by default", func(t *testing.T) {
		r := w.get(t, "/api/v1/currencies", "Origin", "https://app.example")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("CORS answered without CORS_ALLOW_ORIGINS: %v", r.Header)
		}
	})
	t.Run("CORS when configured", func(t *testing.T) {
		d := w.deps
		d.CORSOrigins = "https://app.example"
		app := httpapi.New(d)
		pre, _ := http.NewRequest(http.MethodOptions, "/api/v1/convert", nil)
		pre.Header.Set("Origin", "https://app.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		pre.Header.Set("Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
		resp, err := app.Test(pre)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		other, _ := http.NewRequest(http.MethodGet, "/api/v1/currencies", nil)
		other.Header.Set("Origin", "https://evil.example")
		resp, err = app.Test(other)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("another origin was allowed: %v", resp.Header)
		}
	})
}
