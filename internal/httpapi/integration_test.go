package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"

	"ces/internal/audit"
	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/testenv"
)

func TestWarmCacheLookupIssuesNoSQL(t *testing.T) {
	w := newWorld(t, options{historyCache: true})
	w.ingest(t, ecbHistory(t)...)
	// What is stored of each currency since when is read once per change
	// of stored history, by the first answer that needs it: after the
	// ingestion's announcements are handled, or a reload they start would
	// make the next answer read it again.
	waitNoSQL(t, w)
	w.get(t, "/api/v1/currencies")
	noSQL(t, w, "/api/v1/rates?from=EUR&to=USD", "/api/v1/rates?from=USD&to=EUR", "/api/v1/rates?from=USD&to=GBP",
		"/api/v1/rates?from=USD", "/api/v1/currencies")
	// The first lookup of an instant reads the publication from
	// PostgreSQL: the counter does count.
	before := w.queries.n.Load()
	w.get(t, "/api/v1/rates?from=USD&to=GBP&at=2017-01-10")
	if w.queries.n.Load() == before {
		t.Fatal("the query counter saw no SQL for a cold at= lookup; it counts nothing")
	}
	// Later ones, of any pair at any instant up to the next publication,
	// and history over the days already read, come from memory.
	noSQL(t, w, "/api/v1/rates?from=USD&to=GBP&at=2017-01-10",
		"/api/v1/rates?from=EUR&to=JPY&at=2017-01-10T23:00:00Z",
		"/api/v1/rates?from=GBP&to=USD&at=2017-01-10T20:00:00Z",
		"/api/v1/rates?from=GBP&to=USD&at=2017-01-10T20:00:00Z&provider=ecb",
		"/api/v1/rates/history?from=GBP&to=USD&start=2017-01-10&end=2017-01-10")
}

// noSQL fetches each target and fails if one ran an SQL statement. It
// first waits until nothing else runs SQL (waitNoSQL).
func noSQL(t *testing.T, w *world, targets ...string) {
	t.Helper()
	waitNoSQL(t, w)
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			before := w.queries.n.Load()
			if r := w.get(t, target); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if n := w.queries.n.Load() - before; n != 0 {
				t.Fatalf("a warm lookup ran %d SQL statements", n)
			}
		})
	}
}

// waitNoSQL waits until nothing runs SQL for 300 ms: the history cache
// re-reads a provider's publications when PostgreSQL announces the
// test's inserts.
func waitNoSQL(t *testing.T, w *world) {
	t.Helper()
	for last, since, deadline := w.queries.n.Load(), time.Now(), time.Now().Add(10*time.Second); time.Since(since) < 300*time.Millisecond; time.Sleep(10 * time.Millisecond) {
		if n := w.queries.n.Load(); n != last {
			last, since = n, time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatal("SQL kept running in the background for 10 s")
		}
	}
}

func TestLookupsSurviveUnreachableRedis(t *testing.T) {
	// Nothing listens on port 1: every Redis call fails at once.
	w := newWorld(t, options{redisURL: "redis://127.0.0.1:1/0"})
	w.ingest(t, ecbHistory(t)...)
	tests := []struct{ target, rate string }{
		{"/api/v1/rates?from=EUR&to=USD", "1.0565"},
		{"/api/v1/rates?from=USD&to=GBP", "0.81736867013724562234"},
		{"/api/v1/rates?from=USD&to=GBP&at=2017-03-03T15:00:00Z", "0.81736867013724562234"},
		{"/api/v1/rates?from=USD&to=GBP&at=2017-03-03T14:59:59Z", "0.81377211337264599582"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := w.get(t, tt.target)
			var body struct {
				Rate string `json:"rate"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 || body.Rate != tt.rate {
				t.Fatalf("%d %s, want 200 with rate %s", r.Status, r.Body, tt.rate)
			}
		})
	}
	if r := w.get(t, "/api/v1/rates?from=USD"); r.Status != 200 {
		t.Fatalf("all rates: %d %s", r.Status, r.Body)
	}
	r := w.get(t, "/readyz")
	var ready struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(r.Body, &ready); err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || ready.Status != "degraded" || ready.Checks["redis"].Status != "failing" || ready.Checks["postgres"].Status != "ok" {
		t.Fatalf("readyz = %d %s", r.Status, r.Body)
	}
}

func TestReadyzUnavailableWithoutPostgres(t *testing.T) {
	w := newWorld(t, options{})
	w.db.Close()
	r := w.get(t, "/readyz")
	if r.Status != 503 || !strings.Contains(string(r.Body), `"postgres":{"status":"failing"`) {
		t.Fatalf("readyz = %d %s", r.Status, r.Body)
	}
}

// TestResponsesMatchOpenAPI validates the document, then checks real
// responses of every endpoint against it.
func TestResponsesMatchOpenAPI(t *testing.T) {
	w := newWorld(t, options{})
	docBytes := w.get(t, "/api/v1/openapi.json").Body
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docBytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi document is invalid: %v", err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, target string, wantStatus int) {
		t.Helper()
		method, body := http.MethodGet, ""
		if m, b, ok := strings.Cut(target, " "); ok { // "POST /path body"
			p, rest, _ := strings.Cut(b, " ")
			method, target, body = m, p, rest
		}
		var r response
		if method == http.MethodPost {
			r = w.post(t, target, body)
		} else {
			r = w.get(t, target)
		}
		if r.Status != wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", target, r.Status, wantStatus, r.Body)
		}
		req, _ := http.NewRequest(method, "http://ces.test"+target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s: not in the document: %v", target, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: r.Status, Header: r.Header,
			Body: readCloser(r.Body), Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Fatalf("%s: response does not match the document: %v", target, err)
		}
	}
	// Before any ingestion: the 503.
	check(t, "/api/v1/rates?from=USD&to=EUR", 503)
	w.ingest(t, ecbHistory(t)...)
	for _, c := range []struct {
		target string
		status int
	}{
		{"/healthz", 200},
		{"/readyz", 200},
		{"/api/v1/rates?from=EUR&to=USD", 200},
		{"/api/v1/rates?from=USD&to=GBP", 200},
		{"/api/v1/rates?from=USD&to=USD", 200},
		{"/api/v1/rates?from=USD", 200},
		{"/api/v1/rates?from=USD&to=GBP&at=2017-01-10", 200},
		{"/api/v1/rates/history?from=USD&to=GBP&start=2017-02-01&end=2017-03-03", 200},
		{"/api/v1/currencies", 200},
		{"/api/v1/providers", 200},
		{"/api/v1/rates?from=usd&to=gbp", 200},
		{"/api/v1/rates?from=U5D&to=GBP", 400},
		{"/api/v1/rates?from=USD&to=GBP&at=soon", 400},
		{"/api/v1/rates?from=USD&to=NGN", 404},
		{`POST /api/v1/convert {"amount":"500.00","from_currency":"USD","to_currency":"GBP"}`, 201},
		{`POST /api/v1/convert {"amount":"1e3","from_currency":"USD","to_currency":"GBP"}`, 400},
		{"/api/v1/conversions/0192f3a0-0000-7000-8000-000000000000", 404},
		{"/api/v1/audit/public-key", 200},
	} {
		t.Run(c.target, func(t *testing.T) { check(t, c.target, c.status) })
	}
	// A receipt read back matches the document too.
	var created struct {
		ID string `json:"id"`
	}
	json.Unmarshal(w.post(t, "/api/v1/convert", `{"amount":"1.00","from_currency":"GBP","to_currency":"JPY"}`).Body, &created)
	check(t, "/api/v1/conversions/"+created.ID, 200)
	// A quote, and its conversion.
	check(t, `POST /api/v1/quotes {"amount":"10.00","from_currency":"GBP","to_currency":"JPY"}`, 201)
	var q struct {
		ID string `json:"id"`
	}
	json.Unmarshal(w.post(t, "/api/v1/quotes", `{"amount":"10.00","from_currency":"GBP","to_currency":"JPY"}`).Body, &q)
	check(t, `POST /api/v1/convert {"quote_id":"`+q.ID+`"}`, 201)
	check(t, `POST /api/v1/convert {"quote_id":"`+q.ID+`"}`, 409)
	// With a published key, the keys match the document too.
	sealing := testenv.NewSealing(t)
	pub, _ := audit.EncodePublicKey(sealing.Signer.PublicKey())
	if err := w.st.Audit.RegisterSigningKey(context.Background(), sealing.Signer.KeyID(), pub); err != nil {
		t.Fatal(err)
	}
	check(t, "/api/v1/audit/public-key", 200)
	var keys struct {
		Current string `json:"current_key_id"`
		Keys    []struct {
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(w.get(t, "/api/v1/audit/public-key").Body, &keys); err != nil || keys.Current != sealing.Signer.KeyID() || len(keys.Keys) != 1 {
		t.Fatalf("public keys = %+v, %v", keys, err)
	}
	if parsed, err := audit.ParsePublicKeys([]byte(keys.Keys[0].PublicKey)); err != nil || parsed[keys.Current] == nil {
		t.Fatalf("the published PEM does not parse to key %s: %v", keys.Current, err)
	}
	// With health checks recorded, publishers carry them.
	if err := w.st.Health.RecordChecks(context.Background(), []store.PublisherCheck{
		{Provider: "ecb", CheckedAt: w.now, Status: policy.Late, WindowStart: w.now.AddDate(0, 0, -35), Expected: 24, Missed: 2, NewestAsOf: w.now.Add(-72 * time.Hour), WorkflowID: "w"},
		{Provider: "cbn", CheckedAt: w.now, Status: policy.Silent, WindowStart: w.now.AddDate(0, 0, -35), Expected: 24, Missed: 24, WorkflowID: "w"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.rates.RefreshHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, "/api/v1/providers", 200)
	if body := string(w.get(t, "/api/v1/providers").Body); !strings.Contains(body, `"health":{"status":"late","expected":24,"missed":2`) {
		t.Fatalf("providers do not carry the ecb's health check: %.2000s", body)
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func readCloser(b []byte) nopCloser { return nopCloser{bytes.NewReader(b)} }

// TestRequestIDsAreRandom: ids are UUIDv4, not a counter a client could
// guess from its own.
func TestRequestIDsAreRandom(t *testing.T) {
	w := newWorld(t, options{})
	var prev uuid.UUID
	for i := 0; i < 3; i++ {
		id, err := uuid.Parse(w.get(t, "/healthz").Header.Get("X-Request-ID"))
		if err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("request id %v (%v) is not a random UUID", id, err)
		}
		// Fiber's default ids count up in their first bytes from one
		// random seed and keep its last six bytes: random ones do not.
		if i > 0 && bytes.Equal(id[10:], prev[10:]) {
			t.Fatalf("request ids %s and %s look sequential", prev, id)
		}
		prev = id
	}
}

// TestPostgresDownAnswers503: with PostgreSQL gone and nothing in Redis,
// every route that needs the database answers 503 database_unavailable,
// never 500.
func TestPostgresDownAnswers503(t *testing.T) {
	w := newWorld(t, options{})
	w.ingest(t, ecbHistory(t)...)
	rdbKeys(t, w) // Redis emptied: lookups must go to PostgreSQL
	w.db.Close()
	for _, target := range []string{
		"/api/v1/rates?from=USD&to=GBP",
		"/api/v1/rates?from=USD",
		"/api/v1/rates?from=USD&to=GBP&at=2017-01-10",
		"/api/v1/rates/history?from=USD&to=GBP&start=2017-01-01&end=2017-01-31",
		"/api/v1/currencies",
		"/api/v1/conversions/0192f3a0-0000-7000-8000-000000000000",
	} {
		t.Run(target, func(t *testing.T) {
			r := w.get(t, target)
			if r.Status != 503 || !strings.Contains(string(r.Body), `"database_unavailable"`) || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// rdbKeys deletes the world's cached rates and suspensions.
func rdbKeys(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	rdb := w.rdb
	keys, err := rdb.Keys(ctx, w.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadyzDegradedWhileConversionsAreBlocked: a lock on the audit table
// leaves lookups working, so the API stays ready, but says it is degraded.
func TestReadyzDegradedWhileConversionsAreBlocked(t *testing.T) {
	w := newWorld(t, options{})
	ctx := context.Background()
	lock, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, "LOCK TABLE conversion_audits IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	r := w.get(t, "/readyz")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"degraded"`) || !strings.Contains(string(r.Body), `"postgres_writes":{"status":"failing"`) {
		t.Fatalf("readyz with conversion_audits locked = %d %s", r.Status, r.Body)
	}
}

// TestHistoryFromMemoryFollowsABackfill: with the history cache on, a
// history answer is served from memory, and a backfill into its range
// shows in it as soon as PostgreSQL's NOTIFY reaches the API (milliseconds;
// the bound is loose for a loaded CI machine).
func TestHistoryFromMemoryFollowsABackfill(t *testing.T) {
	w := newWorld(t, options{historyCache: true})
	sets := ecbHistory(t) // newest first
	missing := sets[20]
	w.ingest(t, append(slices.Clone(sets[:20]), sets[21:]...)...)
	target := "/api/v1/rates/history?from=GBP&to=JPY&start=" + sets[30].AsOf.Format("2006-01-02") + "&end=" + sets[10].AsOf.Format("2006-01-02")
	points := func() int {
		r := w.get(t, target)
		var body struct {
			Points []struct {
				AsOf string `json:"as_of"`
			} `json:"points"`
		}
		if r.Status != 200 || json.Unmarshal(r.Body, &body) != nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		return len(body.Points)
	}
	before := points()
	if again := points(); again != before || before != 20 {
		t.Fatalf("points %d then %d, want 20 twice", before, again)
	}
	w.ingest(t, missing)
	deadline := time.Now().Add(5 * time.Second)
	for points() != before+1 {
		if time.Now().After(deadline) {
			t.Fatalf("the backfilled day is not in the answer after 5 s: %d points", points())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
