package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/testenv"
)

const usdEUR = `{"amount":"100.00","from_currency":"USD","to_currency":"EUR"}`

type apiErr struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func decodeErr(t *testing.T, r response) apiErr {
	t.Helper()
	var e apiErr
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("%d, not the error shape: %s", r.Status, r.Body)
	}
	return e
}

// TestConversionsNeedAKeyWithTheirScope: without a valid key nothing is
// written, and every 401 reads the same whether the key exists or not.
func TestConversionsNeedAKeyWithTheirScope(t *testing.T) {
	w := oxrWorld(t, options{})
	ratesOnly, _ := w.newKey(t, "dashboard", clients.ScopeRatesRead)
	revoked, revokedID := w.newKey(t, "old", clients.ScopeConvert)
	if err := w.st.Keys.RevokeAPIKey(context.Background(), revokedID, "test", "rotated"); err != nil {
		t.Fatal(err)
	}
	var unauthorized string
	for _, tt := range []struct {
		name, header string
		status       int
		code         string
	}{
		{"no key", "-", 401, "unauthorized"},
		{"empty", "", 401, "unauthorized"},
		{"another scheme", "Basic dXNlcjpwdw==", 401, "unauthorized"},
		{"bearer without a key", "Bearer", 401, "unauthorized"},
		{"not a CES key", "Bearer abc", 401, "unauthorized"},
		{"unknown key", "Bearer ces_" + strings.Repeat("A", 43), 401, "unauthorized"},
		{"a key with a space", "Bearer " + w.key + " x", 401, "unauthorized"},
		{"control characters", "Bearer ces_\x01\x02", 401, "unauthorized"},
		{"revoked", "Bearer " + revoked, 401, "unauthorized"},
		{"without the convert scope", "Bearer " + ratesOnly, 403, "forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := w.auditRows(t)
			r := w.post(t, "/api/v1/convert", usdEUR, "Authorization", tt.header, "Idempotency-Key", "k-"+tt.name)
			e := decodeErr(t, r)
			if r.Status != tt.status || e.Error.Code != tt.code || e.Error.Field != "Authorization" {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
			if tt.status == 401 {
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
				if unauthorized == "" {
					unauthorized = e.Error.Message
				} else if e.Error.Message != unauthorized {
					t.Fatalf("401 messages differ (%q, %q): they must not say whether a key exists", unauthorized, e.Error.Message)
				}
			}
			if after := w.auditRows(t); after != before {
				t.Fatal("a refused request wrote a conversion")
			}
			if strings.Contains(string(r.Body), w.key) || strings.Contains(string(r.Body), ratesOnly) {
				t.Fatal("the answer repeats a key")
			}
		})
	}
}

// TestRatesNeedAKeyUnlessPublic: with RATES_PUBLIC=false lookups need a
// key with rates:read; a key sent to a public endpoint is still checked.
func TestRatesNeedAKeyUnlessPublic(t *testing.T) {
	convertOnly := func(w *world) string { k, _ := w.newKey(t, "payments", clients.ScopeConvert); return k }
	for _, tt := range []struct {
		name    string
		private bool
		header  func(w *world) string
		status  int
	}{
		{"public, no key", false, func(*world) string { return "-" }, 200},
		{"public, a bad key", false, func(*world) string { return "Bearer ces_nope" }, 401},
		{"private, no key", true, func(*world) string { return "-" }, 401},
		{"private, a rates key", true, func(w *world) string { k, _ := w.newKey(t, "reader", clients.ScopeRatesRead); return "Bearer " + k }, 200},
		{"private, a convert-only key", true, func(w *world) string { return "Bearer " + convertOnly(w) }, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := oxrWorld(t, options{ratesPrivate: tt.private})
			for _, target := range []string{"/api/v1/rates?from=USD&to=EUR", "/api/v1/currencies", "/api/v1/rates/history?from=USD&to=EUR&start=2022-08-01&end=2022-09-01"} {
				if r := w.get(t, target, "Authorization", tt.header(w)); r.Status != tt.status {
					t.Fatalf("%s: %d %s, want %d", target, r.Status, r.Body, tt.status)
				}
			}
			// Never behind a key: health, the document, the audit keys.
			for _, target := range []string{"/healthz", "/api/v1/openapi.json", "/api/v1/audit/public-key"} {
				if r := w.get(t, target, "Authorization", "-"); r.Status != 200 {
					t.Fatalf("%s: %d", target, r.Status)
				}
			}
		})
	}
}

// TestClientsAreApart: the same Idempotency-Key from two clients makes two
// conversions; each client reads only its own receipts (another's is a
// 404, as if it did not exist); the key's id is in the hashed receipt.
func TestClientsAreApart(t *testing.T) {
	w := oxrWorld(t, options{})
	other, otherID := w.newKey(t, "other client", clients.ScopeConvert)
	a := w.post(t, "/api/v1/convert", usdEUR, "Idempotency-Key", "order-1")
	b := w.post(t, "/api/v1/convert", usdEUR, "Idempotency-Key", "order-1", "Authorization", "Bearer "+other)
	var ra, rb struct{ ID string }
	json.Unmarshal(a.Body, &ra)
	json.Unmarshal(b.Body, &rb)
	if a.Status != 201 || b.Status != 201 || ra.ID == rb.ID || ra.ID == "" {
		t.Fatalf("two clients, one key string: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
	}
	if replay := w.post(t, "/api/v1/convert", usdEUR, "Idempotency-Key", "order-1"); replay.Status != 200 || !strings.Contains(string(replay.Body), ra.ID) {
		t.Fatalf("replay by the first client: %d %s", replay.Status, replay.Body)
	}
	if r := w.get(t, "/api/v1/conversions/"+ra.ID); r.Status != 200 {
		t.Fatalf("own receipt: %d %s", r.Status, r.Body)
	}
	r := w.get(t, "/api/v1/conversions/"+ra.ID, "Authorization", "Bearer "+other)
	if e := decodeErr(t, r); r.Status != 404 || e.Error.Code != "conversion_not_found" {
		t.Fatalf("another client's receipt: %d %s, want 404", r.Status, r.Body)
	}
	got, err := w.st.Conversions.ConversionByID(context.Background(), rb.ID)
	if err != nil || got.APIKeyID != otherID || !strings.Contains(auditCanonical(got), "api_key_id="+otherID) {
		t.Fatalf("stored receipt %+v, %v: want the key id %s in its hashed content", got, err, otherID)
	}
	if n := w.auditRows(t); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestRevocationReachesEveryReplicaAtOnce: two replicas that both trust a
// key (cached) stop at once when one announces its revocation; a replica
// that missed the announcement still cannot write with it.
func TestRevocationReachesEveryReplicaAtOnce(t *testing.T) {
	w := oxrWorld(t, options{})
	ctx := context.Background()
	key, id := w.newKey(t, "leaky", clients.ScopeConvert, clients.ScopeRatesRead)
	rdb, prefix := testenv.Redis(t)
	var replicas []*clients.Authenticator
	for range 2 {
		a := clients.NewAuthenticator(w.st.Keys, rdb, prefix, quiet)
		actx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		go a.Watch(actx)
		replicas = append(replicas, a)
	}
	time.Sleep(200 * time.Millisecond) // both subscribed
	for _, a := range replicas {
		if _, err := a.Authenticate(ctx, "Bearer "+key); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.st.Keys.RevokeAPIKey(ctx, id, "test", "leaked"); err != nil {
		t.Fatal(err)
	}
	// Until the announcement, a replica trusts its copy (no SQL per read).
	if _, err := replicas[1].Authenticate(ctx, "Bearer "+key); err != nil {
		t.Fatalf("the replica did not cache the key: %v", err)
	}
	if err := replicas[0].Announce(ctx, id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for i, a := range replicas {
		for {
			_, err := a.Authenticate(ctx, "Bearer "+key)
			if errors.Is(err, fx.ErrUnauthorized) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d still accepts the key a second after its revocation (%v)", i, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// The world's own API never heard of it (its authenticator listens
	// elsewhere) and cached the key before the revocation: the write is
	// still refused, by the database.
	stale, staleID := w.newKey(t, "stale", clients.ScopeConvert)
	if r := w.get(t, "/api/v1/conversions/0192f3a0-0000-7000-8000-000000000000", "Authorization", "Bearer "+stale); r.Status != 404 {
		t.Fatalf("before revocation: %d %s", r.Status, r.Body)
	}
	if err := w.st.Keys.RevokeAPIKey(ctx, staleID, "test", "no announcement"); err != nil {
		t.Fatal(err)
	}
	before := w.auditRows(t)
	r := w.post(t, "/api/v1/convert", usdEUR, "Authorization", "Bearer "+stale)
	if r.Status != 401 || w.auditRows(t) != before {
		t.Fatalf("a write with a revoked (cached) key: %d %s", r.Status, r.Body)
	}
}

// TestRevokedKeyLearnsNothingFromAUsedQuote: a revoked key (still in an
// API's cache) converting its already-used quote is told 401, not that
// the quote was used: the database answers the revocation first.
func TestRevokedKeyLearnsNothingFromAUsedQuote(t *testing.T) {
	w := oxrWorld(t, options{})
	ctx := context.Background()
	key, id := w.newKey(t, "revoked later", clients.ScopeConvert)
	r := w.post(t, "/api/v1/quotes", usdEUR, "Authorization", "Bearer "+key)
	var q struct {
		ID string `json:"id"`
	}
	if r.Status != 201 || json.Unmarshal(r.Body, &q) != nil {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	if r := w.post(t, "/api/v1/convert", `{"quote_id":"`+q.ID+`"}`, "Authorization", "Bearer "+key); r.Status != 201 {
		t.Fatalf("convert: %d %s", r.Status, r.Body)
	}
	if err := w.st.Keys.RevokeAPIKey(ctx, id, "test", "no announcement"); err != nil {
		t.Fatal(err)
	}
	if r := w.post(t, "/api/v1/convert", `{"quote_id":"`+q.ID+`"}`, "Authorization", "Bearer "+key); r.Status != 401 {
		t.Fatalf("the used quote again, with the key revoked: %d %s", r.Status, r.Body)
	}
}

// TestUnknownKeyCostsOneLookup: a client repeating a key no one issued is
// refused every time, the same way, and only its first request costs
// PostgreSQL a lookup; another unknown key costs its own.
func TestUnknownKeyCostsOneLookup(t *testing.T) {
	w := oxrWorld(t, options{})
	unknown := "Bearer ces_" + strings.Repeat("Z", 43)
	before := w.queries.n.Load()
	for i := range 20 {
		target := []string{"/api/v1/convert", "/api/v1/rates?from=USD&to=EUR"}[i%2]
		var r response
		if i%2 == 0 {
			r = w.post(t, target, usdEUR, "Authorization", unknown)
		} else {
			r = w.get(t, target, "Authorization", unknown)
		}
		if e := decodeErr(t, r); r.Status != 401 || e.Error.Code != "unauthorized" {
			t.Fatalf("request %d to %s: %d %s", i, target, r.Status, r.Body)
		}
	}
	if n := w.queries.n.Load() - before; n != 1 {
		t.Fatalf("20 requests with one unknown key ran %d SQL statements, want 1", n)
	}
	before = w.queries.n.Load()
	if r := w.get(t, "/api/v1/rates?from=USD&to=EUR", "Authorization", "Bearer ces_"+strings.Repeat("Y", 43)); r.Status != 401 {
		t.Fatalf("another unknown key: %d", r.Status)
	}
	if n := w.queries.n.Load() - before; n != 1 {
		t.Fatalf("another unknown key ran %d SQL statements, want its own lookup", n)
	}
	// The client's real key still works.
	if r := w.get(t, "/api/v1/rates?from=USD&to=EUR", "Authorization", "Bearer "+w.key); r.Status != 200 {
		t.Fatalf("a valid key after unknown ones: %d %s", r.Status, r.Body)
	}
}
