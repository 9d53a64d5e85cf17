package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"ces/internal/admin"
	"ces/internal/clientaddr"
	"ces/internal/httpapi"
	"ces/internal/testenv"
)

const convertBody = `{"amount":"10.00","from_currency":"USD","to_currency":"GBP"}`

// postVia posts to app as w.post does, except that a request whose
// headers exceed the server's read buffer goes to app on a real
// listener: app.Test cannot show the answer fasthttp sends such a request
// (431). Headers with control characters, which net/http refuses to send,
// go through app.Test.
func (w *world) postVia(t *testing.T, app *fiber.App, target, body string, headers ...string) response {
	t.Helper()
	size := 0
	for _, h := range headers {
		size += len(h)
	}
	base := ""
	if size > 4<<10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go app.Listener(ln)
		defer ln.Close()
		base = "http://" + ln.Addr().String()
	}
	req, _ := http.NewRequest(http.MethodPost, base+target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if base == "" {
		return sendTo(t, app, req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// storedRequest is what PostgreSQL holds of the receipt id.
func storedRequest(t *testing.T, w *world, id string) (requestID, clientAddress string) {
	t.Helper()
	err := w.db.QueryRowContext(context.Background(), "SELECT request_id, client_address FROM conversion_audits WHERE id = ?", id).Scan(&requestID, &clientAddress)
	if err != nil {
		t.Fatalf("receipt %s: %v", id, err)
	}
	return requestID, clientAddress
}

// receiptID is the id of the receipt a conversion answered.
func receiptID(t *testing.T, r response) string {
	t.Helper()
	var body struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.ID == "" {
		t.Fatalf("no receipt id in %d %s", r.Status, r.Body)
	}
	return body.ID
}

// TestRequestIDsAreTheServers: a client's X-Request-ID never becomes the
// request id a receipt records. Odd bytes (invalid UTF-8, which
// PostgreSQL would store as other text than the receipt's hash covers;
// 5 kB; control characters) are refused with 400 before anything is
// written; a valid one is only a correlation id for the logs. Whatever
// was written, the full audit verification passes on what PostgreSQL
// stores.
func TestRequestIDsAreTheServers(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	odd := []struct{ name, value string }{
		{"invalid UTF-8", "bar\xff"},
		{"3.5 kB, within the server's header buffer", strings.Repeat("r", 3584)},
		{"5 kB, beyond it", strings.Repeat("r", 5<<10)},
		{"control characters", "a\x01b\x1b[31m"},
		{"a tab", "a\tb"},
		{"one over the bound", strings.Repeat("r", 129)},
		{"spaces", "my request"},
		{"non-ASCII", "bär"},
	}
	for _, tt := range odd {
		t.Run(tt.name, func(t *testing.T) {
			r := w.postVia(t, w.app, "/api/v1/convert", convertBody, "X-Request-ID", tt.value)
			// A header beyond the server's read buffer (4 kB) is refused
			// by fasthttp itself, before any handler.
			if len(tt.value) > 4<<10 {
				if r.Status != 431 {
					t.Errorf("%d %s, want 431", r.Status, r.Body)
				}
				return
			}
			var e struct {
				Error struct{ Code, Field string }
			}
			json.Unmarshal(r.Body, &e)
			// Errorf, not Fatalf: the verification below must run whatever
			// this request did.
			if r.Status != 400 || e.Error.Code != "invalid_parameter" || e.Error.Field != "X-Request-ID" {
				t.Errorf("X-Request-ID %q: %d %s, want 400 invalid_parameter on X-Request-ID", tt.value, r.Status, r.Body)
			}
		})
	}
	// Two headers: which one would count?
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/convert", strings.NewReader(convertBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.key)
	req.Header.Add("X-Request-ID", "one")
	req.Header.Add("X-Request-ID", "two")
	if r := w.send(t, req); r.Status != 400 {
		t.Errorf("two X-Request-ID headers: %d %s", r.Status, r.Body)
	}

	// A valid correlation id is accepted, and is not the request id.
	const corr = "trace-01HZX:client.retry_2"
	r := w.post(t, "/api/v1/convert", convertBody, "X-Request-ID", corr)
	if r.Status != 201 {
		t.Fatalf("with a valid X-Request-ID: %d %s", r.Status, r.Body)
	}
	answered := r.Header.Get("X-Request-ID")
	if id, err := uuid.Parse(answered); err != nil || id.Version() != 4 {
		t.Errorf("X-Request-ID answered %q, want the server's UUIDv4", answered)
	}
	if stored, _ := storedRequest(t, w, receiptID(t, r)); stored != answered {
		t.Errorf("the receipt records request id %q, the response said %q", stored, answered)
	}

	// Round trip: seal what PostgreSQL stores, then verify every row as
	// starter verify-audit --full does.
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, w.st)
	rep := sealing.Verify(t, w.st, true)
	if !rep.OK() {
		t.Fatalf("verify-audit --full: %s", rep.Problem)
	}
	if rep.Rows != 1 {
		t.Fatalf("verify-audit covered %d rows, want the one conversion with a valid X-Request-ID", rep.Rows)
	}
}

// TestReceiptsRecordTheForwardedClient: behind a trusted proxy a receipt
// records the client X-Forwarded-For names (the rightmost address the
// proxies do not vouch for, not the leftmost a client wrote); from a peer
// that is not trusted, the peer. Odd bytes in the header never reach a
// receipt, and the receipts verify.
func TestReceiptsRecordTheForwardedClient(t *testing.T) {
	// app.Test's requests come from 0.0.0.0.
	peer := netip.MustParsePrefix("0.0.0.0/32")
	tests := []struct {
		name      string
		trusted   clientaddr.Proxies
		forwarded string
		want      string
	}{
		{"trusted proxy", clientaddr.Proxies{peer}, "198.51.100.1, 203.0.113.7", "203.0.113.7"},
		{"trusted proxy chain", clientaddr.Proxies{peer, netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"},
		{"trusted proxy, odd bytes", clientaddr.Proxies{peer}, "bar\xff, a\x01b", "0.0.0.0"},
		{"trusted proxy, 3.5 kB", clientaddr.Proxies{peer}, strings.Repeat("x", 3584), "0.0.0.0"},
		{"trusted proxy, 5 kB", clientaddr.Proxies{peer}, strings.Repeat("x", 5<<10), ""},
		{"untrusted peer", clientaddr.Proxies{netip.MustParsePrefix("10.0.0.0/8")}, "203.0.113.7", "0.0.0.0"},
		{"no proxies", nil, "203.0.113.7", "0.0.0.0"},
	}
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	stored := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := w.deps
			d.TrustedProxies = tt.trusted
			r := w.postVia(t, httpapi.New(d), "/api/v1/convert", convertBody, "X-Forwarded-For", tt.forwarded)
			if tt.want == "" {
				// Beyond the server's header buffer: refused before any handler.
				if r.Status != 431 {
					t.Errorf("%d %s, want 431", r.Status, r.Body)
				}
				return
			}
			if r.Status != 201 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			stored++
			if _, addr := storedRequest(t, w, receiptID(t, r)); addr != tt.want {
				t.Errorf("client_address %q, want %q", addr, tt.want)
			}
		})
	}
	sealing := testenv.NewSealing(t)
	sealing.SealAll(t, w.st)
	if rep := sealing.Verify(t, w.st, true); !rep.OK() || rep.Rows != int64(stored) {
		t.Fatalf("verify-audit --full over %d receipts: %+v", stored, rep)
	}
}

// TestAdminAndMetricsOnlyOnTheAdminApp: the public app answers /admin and
// /metrics 404 in the error contract; the operators' app serves them and
// nothing of the public API.
func TestAdminAndMetricsOnlyOnTheAdminApp(t *testing.T) {
	w := newWorld(t, options{metrics: true})
	console, err := admin.New(admin.Deps{Stores: admin.StoresOf(w.st), Log: quiet, Ingestion: map[string]admin.Ingestion{}})
	if err != nil {
		t.Fatal(err)
	}
	d := w.deps
	d.Admin = console
	public, operators := httpapi.New(d), httpapi.NewAdmin(d)
	for _, tt := range []struct {
		admin  bool
		target string
		want   int
	}{
		{false, "/metrics", 404},
		{false, "/admin/login", 404},
		{false, "/admin/", 404},
		{false, "/admin/static/admin.css", 404},
		{false, "/healthz", 200},
		{true, "/metrics", 200},
		{true, "/admin/login", 200},
		{true, "/admin/", 303},
		{true, "/api/v1/rates?from=EUR&to=USD", 404},
		{true, "/healthz", 404},
	} {
		app, name := public, "public"
		if tt.admin {
			app, name = operators, "admin"
		}
		req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
		r := sendTo(t, app, req)
		if r.Status != tt.want {
			t.Errorf("%s app, GET %s: %d, want %d", name, tt.target, r.Status, tt.want)
		}
		if r.Status == 404 && !strings.Contains(string(r.Body), `"not_found"`) {
			t.Errorf("%s app, GET %s: 404 outside the error contract: %s", name, tt.target, r.Body)
		}
	}
}
