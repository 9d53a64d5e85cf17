package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/fx"
)

type receipt struct {
	ID              string `json:"id"`
	CreatedAt       string `json:"created_at"`
	Amount          string `json:"amount"`
	FromCurrency    string `json:"from_currency"`
	ToCurrency      string `json:"to_currency"`
	MidRate         string `json:"mid_rate"`
	Margin          string `json:"margin"`
	AppliedRate     string `json:"applied_rate"`
	ConvertedAmount string `json:"converted_amount"`
	Rounding        string `json:"rounding"`
	Provider        string `json:"provider"`
	AsOf            string `json:"as_of"`
	Legs            []struct {
		ID    int64  `json:"id"`
		Base  string `json:"base"`
		Quote string `json:"quote"`
		Rate  string `json:"rate"`
	} `json:"legs"`
	Hash string `json:"hash"`
}

func decodeReceipt(t *testing.T, r response) receipt {
	t.Helper()
	var rc receipt
	if err := json.Unmarshal(r.Body, &rc); err != nil {
		t.Fatalf("receipt: %v: %s", err, r.Body)
	}
	return rc
}

func (w *world) auditRows(t *testing.T) int64 {
	t.Helper()
	n, err := w.st.Conversions.CountConversions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// oxrWorld serves the recorded Open Exchange Rates payload (USD base, has NGN).
func oxrWorld(t *testing.T, o options) *world {
	o.provider = "openexchangerates"
	if o.now.IsZero() {
		o.now = time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)
	}
	if o.staleAfter == 0 {
		o.staleAfter = 3 * time.Hour
	}
	w := newWorld(t, o)
	w.ingest(t, oxrLatest(t))
	return w
}

func TestConvertSeedExample(t *testing.T) {
	w := oxrWorld(t, options{})
	r := w.post(t, "/api/v1/convert", `{"amount": 500.00, "from_currency": "USD", "to_currency": "NGN"}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	rc := decodeReceipt(t, r)
	// 418.065024 × (1 − 0.005) = 415.97469888; × 500 = 207987.34944 → 207987.35
	want := receipt{Amount: "500.00", FromCurrency: "USD", ToCurrency: "NGN", MidRate: "418.065024", Margin: "0.005",
		AppliedRate: "415.97469888", ConvertedAmount: "207987.35", Rounding: "half_even", Provider: "openexchangerates", AsOf: "2022-09-01T03:00:00Z"}
	if rc.Amount != want.Amount || rc.MidRate != want.MidRate || rc.Margin != want.Margin || rc.AppliedRate != want.AppliedRate ||
		rc.ConvertedAmount != want.ConvertedAmount || rc.Rounding != want.Rounding || rc.Provider != want.Provider || rc.AsOf != want.AsOf {
		t.Fatalf("receipt = %+v\nwant      %+v", rc, want)
	}
	if len(rc.Legs) != 1 || rc.Legs[0].Quote != "NGN" || len(rc.Hash) != 64 {
		t.Fatalf("legs/hash = %+v %q", rc.Legs, rc.Hash)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/conversions/"+rc.ID {
		t.Fatalf("Location = %q", loc)
	}
	again := w.get(t, "/api/v1/conversions/"+rc.ID)
	if again.Status != 200 || string(again.Body) != string(r.Body) {
		t.Fatalf("GET receipt = %d %s\nPOST gave %s", again.Status, again.Body, r.Body)
	}
}

func TestConvertBadInputWritesNothing(t *testing.T) {
	w := oxrWorld(t, options{})
	tests := []struct {
		name, body string
		headers    []string
		status     int
		code       string
		field      string
	}{
		{"zero", `{"amount":"0","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"negative string", `{"amount":"-5","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"negative number", `{"amount":-5,"from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"exponent string", `{"amount":"5e2","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"exponent number", `{"amount":5E2,"from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"NaN", `{"amount":"NaN","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"too many decimals", `{"amount":"1.001","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"decimals in JPY", `{"amount":"1.5","from_currency":"JPY","to_currency":"USD"}`, nil, 400, "invalid_amount", "amount"},
		{"19 integer digits", `{"amount":"1000000000000000000","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"empty amount", `{"amount":"","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "invalid_amount", "amount"},
		{"non-letters in a currency", `{"amount":"1","from_currency":"U5D","to_currency":"NGN"}`, nil, 400, "invalid_currency", "from_currency"},
		{"unknown currency", `{"amount":"1","from_currency":"USD","to_currency":"BTC"}`, nil, 400, "invalid_currency", "to_currency"},
		{"metal", `{"amount":"1","from_currency":"USD","to_currency":"XAU"}`, nil, 400, "invalid_currency", "to_currency"},
		{"withdrawn", `{"amount":"1","from_currency":"USD","to_currency":"ZWL"}`, nil, 400, "invalid_currency", "to_currency"},
		{"same currency", `{"amount":"1","from_currency":"USD","to_currency":"USD"}`, nil, 400, "invalid_currency", "to_currency"},
		{"not json", `amount=1&from=USD`, nil, 400, "malformed_body", ""},
		{"empty body", ``, nil, 400, "malformed_body", ""},
		{"array", `[1,2]`, nil, 400, "malformed_body", ""},
		{"unknown field", `{"amount":"1","from_currency":"USD","to_currency":"NGN","fee":"0"}`, nil, 400, "malformed_body", "fee"},
		{"duplicate key", `{"amount":"1","amount":"2","from_currency":"USD","to_currency":"NGN"}`, nil, 400, "malformed_body", "amount"},
		{"amount bool", `{"amount":true,"from_currency":"USD","to_currency":"NGN"}`, nil, 400, "malformed_body", "amount"},
		{"amount null", `{"amount":null,"from_currency":"USD","to_currency":"NGN"}`, nil, 400, "malformed_body", "amount"},
		{"currency number", `{"amount":"1","from_currency":840,"to_currency":"NGN"}`, nil, 400, "malformed_body", "from_currency"},
		{"currency object", `{"amount":"1","from_currency":{"code":"USD"},"to_currency":"NGN"}`, nil, 400, "malformed_body", "from_currency"},
		{"missing to", `{"amount":"1","from_currency":"USD"}`, nil, 400, "malformed_body", "to_currency"},
		{"trailing data", `{"amount":"1","from_currency":"USD","to_currency":"NGN"} {}`, nil, 400, "malformed_body", ""},
		{"truncated", `{"amount":"1","from_currency":"USD"`, nil, 400, "malformed_body", ""},
		{"bad idempotency key", `{"amount":"1","from_currency":"USD","to_currency":"NGN"}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "invalid_parameter", "Idempotency-Key"},
		{"not quoted", `{"amount":"1","from_currency":"USD","to_currency":"USN"}`, nil, 404, "rate_not_found", ""},
		{"pays out less than a cent", `{"amount":"1","from_currency":"VND","to_currency":"USD"}`, nil, 400, "amount_too_small", "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.auditRows(t)
			r := w.post(t, "/api/v1/convert", tt.body, tt.headers...)
			var e struct {
				Error struct{ Code, Message, Field string } `json:"error"`
			}
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("%d, body is not the error shape: %s", r.Status, r.Body)
			}
			if r.Status != tt.status || e.Error.Code != tt.code || e.Error.Field != tt.field || e.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s field %q", r.Status, e.Error, tt.status, tt.code, tt.field)
			}
			if after := w.auditRows(t); after != before {
				t.Fatalf("a rejected request wrote %d audit rows", after-before)
			}
		})
	}
}

// TestBodyTooLarge runs a real listener: fasthttp refuses an oversized
// body before Fiber routes it, which app.Test cannot show.
func TestBodyTooLarge(t *testing.T) {
	w := oxrWorld(t, options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go w.app.Listener(ln)
	t.Cleanup(func() { w.app.Shutdown() })
	big := `{"amount": "1", "from_currency": "USD", "to_currency": "NGN", "pad": "` + strings.Repeat("x", 20<<10) + `"}`
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/v1/convert", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"code":"body_too_large"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if w.auditRows(t) != 0 {
		t.Fatal("an oversized request wrote an audit row")
	}
}

func TestConvertRateUnavailable(t *testing.T) {
	t.Run("rate too old", func(t *testing.T) {
		w := oxrWorld(t, options{maxAge: time.Hour, now: time.Date(2022, 9, 1, 5, 0, 1, 0, time.UTC)})
		r := w.post(t, "/api/v1/convert", `{"amount":"1","from_currency":"USD","to_currency":"NGN"}`)
		if r.Status != 503 || !strings.Contains(string(r.Body), `"rate_unavailable"`) || w.auditRows(t) != 0 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("nothing ingested", func(t *testing.T) {
		w := newWorld(t, options{})
		r := w.post(t, "/api/v1/convert", `{"amount":"1","from_currency":"USD","to_currency":"EUR"}`)
		if r.Status != 503 || !strings.Contains(string(r.Body), `"rate_unavailable"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestConvertIdempotency(t *testing.T) {
	w := oxrWorld(t, options{})
	body := `{"amount":"100.00","from_currency":"USD","to_currency":"EUR"}`
	first := w.post(t, "/api/v1/convert", body, "Idempotency-Key", "order-42")
	if first.Status != 201 {
		t.Fatalf("%d %s", first.Status, first.Body)
	}
	// Same key, same request (100 and 100.00 are the same amount): the original receipt.
	again := w.post(t, "/api/v1/convert", `{"amount":100,"from_currency":"USD","to_currency":"EUR"}`, "Idempotency-Key", "order-42")
	if again.Status != 200 || again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Fatalf("replay = %d %q %s", again.Status, again.Header.Get("Idempotent-Replayed"), again.Body)
	}
	// Same key, another request: 422.
	other := w.post(t, "/api/v1/convert", `{"amount":"101.00","from_currency":"USD","to_currency":"EUR"}`, "Idempotency-Key", "order-42")
	if other.Status != 422 || !strings.Contains(string(other.Body), `"idempotency_key_reused"`) {
		t.Fatalf("reuse = %d %s", other.Status, other.Body)
	}
	if n := w.auditRows(t); n != 1 {
		t.Fatalf("audit rows = %d, want 1", n)
	}

	// While another request holds the key, a second one is told so.
	ctx := context.Background()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", advisoryKey(w.keyID, "order-43")); err != nil {
		t.Fatal(err)
	}
	busy := w.post(t, "/api/v1/convert", body, "Idempotency-Key", "order-43")
	if busy.Status != 409 || !strings.Contains(string(busy.Body), `"idempotency_key_in_use"`) {
		t.Fatalf("in flight = %d %s", busy.Status, busy.Body)
	}
	if n := w.auditRows(t); n != 1 {
		t.Fatalf("audit rows = %d, want 1", n)
	}
}

func TestConcurrentRequestsWithOneKeyWriteOneRow(t *testing.T) {
	w := oxrWorld(t, options{})
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.post(t, "/api/v1/convert", `{"amount":"250.00","from_currency":"USD","to_currency":"NGN"}`, "Idempotency-Key", "burst-1")
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 200, 409:
		default:
			t.Fatalf("unexpected status %d among %v", s, statuses)
		}
	}
	if created != 1 || w.auditRows(t) != 1 {
		t.Fatalf("created %d receipts and %d audit rows, want 1 and 1 (%v)", created, w.auditRows(t), statuses)
	}
}

func TestConvertWithRedisDown(t *testing.T) {
	w := newWorld(t, options{redisURL: "redis://127.0.0.1:1/0"})
	w.ingest(t, ecbHistory(t)...)
	r := w.post(t, "/api/v1/convert", `{"amount":"100.00","from_currency":"USD","to_currency":"GBP"}`)
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if rc := decodeReceipt(t, r); rc.MidRate != "0.81736867013724562234" || len(rc.Legs) != 2 {
		t.Fatalf("receipt = %+v", rc)
	}
}

func TestConvertWithDatabaseDown(t *testing.T) {
	w := oxrWorld(t, options{})
	w.db.Close() // the rate still comes from Redis; recording it cannot happen
	r := w.post(t, "/api/v1/convert", `{"amount":"1","from_currency":"USD","to_currency":"NGN"}`)
	if r.Status != 503 || !strings.Contains(string(r.Body), `"database_unavailable"`) {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "127.0.0.1") || strings.Contains(string(r.Body), "sql:") {
		t.Fatalf("the error leaks internals: %s", r.Body)
	}
}

func TestReceiptNotFound(t *testing.T) {
	w := oxrWorld(t, options{})
	for _, id := range []string{
		"0192f3a0-0000-7000-8000-000000000000", "not-a-uuid",
		// Forms uuid.Parse accepts and PostgreSQL refuses: once a 503.
		"urn:uuid:0192f3a0-0000-7000-8000-000000000000", "{0192f3a0-0000-7000-8000-000000000000}", "0192f3a000007000800000000000000",
		"0192f3a0000070008000000000000000",
	} {
		if r := w.get(t, "/api/v1/conversions/"+id); r.Status != 404 || !strings.Contains(string(r.Body), `"conversion_not_found"`) {
			t.Fatalf("%s: %d %s", id, r.Status, r.Body)
		}
	}
}

// TestReceiptsRecompute converts many random amounts over many pairs and
// recomputes every receipt from the rate rows it references, the margin and
// the rounding rule: the numbers must agree to the last digit.
func TestReceiptsRecompute(t *testing.T) {
	w := oxrWorld(t, options{margin: "0.0125"})
	codes := []string{"USD", "EUR", "NGN", "JPY", "KWD", "GBP", "CLF", "BHD", "ISK", "INR"}
	rng := rand.New(rand.NewSource(20261128))
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		from, to := codes[rng.Intn(len(codes))], codes[rng.Intn(len(codes))]
		if from == to {
			continue
		}
		cur, _ := fx.LookupCurrency(from)
		// An integer number of minor units, up to 10^12 of them.
		units := rng.Int63n(1_000_000_000_000) + 1
		amount := decimal.New(units, -int32(cur.MinorUnits))
		r := w.post(t, "/api/v1/convert", fmt.Sprintf(`{"amount":%q,"from_currency":%q,"to_currency":%q}`, amount.StringFixed(int32(cur.MinorUnits)), from, to))
		if r.Status != 201 {
			t.Fatalf("%s %s→%s: %d %s", amount, from, to, r.Status, r.Body)
		}
		rc := decodeReceipt(t, r)
		ids := make([]int64, len(rc.Legs))
		for j, l := range rc.Legs {
			ids[j] = l.ID
		}
		rows, err := w.st.Rates.RatesByID(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		base := "USD"
		q, err := deriveQuote(from, to, base, func(c string) (fx.Rate, bool) {
			for _, row := range rows {
				if row.Quote == c {
					return row, true
				}
			}
			return fx.Rate{}, false
		})
		if err != nil {
			t.Fatal(err)
		}
		toCur, _ := fx.LookupCurrency(to)
		conv, err := fx.Convert(amount, q.Value, decimal.RequireFromString("0.0125"), toCur)
		if err != nil {
			t.Fatal(err)
		}
		if rc.MidRate != conv.MidRate.String() || rc.AppliedRate != conv.AppliedRate.String() ||
			rc.ConvertedAmount != conv.ConvertedAmount.StringFixed(int32(toCur.MinorUnits)) {
			t.Fatalf("%s %s→%s: receipt %s/%s/%s, recomputed %s/%s/%s", amount, from, to,
				rc.MidRate, rc.AppliedRate, rc.ConvertedAmount, conv.MidRate, conv.AppliedRate, conv.ConvertedAmount)
		}
		stored, err := w.st.Conversions.ConversionByID(ctx, rc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if audit.ReceiptHash(stored) != rc.Hash {
			t.Fatalf("receipt %s: stored content does not hash to the receipt's hash", rc.ID)
		}
	}
}

// deriveQuote is TestReceiptsRecompute's oracle: it prices from→to from
// rates quoted against base (the provider's base currency) by the textbook
// formulas, independently of policy.Route, which the receipts come from.
// get returns the stored base→quote rate; it reports false when the
// provider does not quote that currency. The legs are listed in the order
// the policy lists them, from the from side to the to side, so the two read
// alike:
//
//   - from == to: 1, no legs.
//   - from == base: the stored base→to rate, exactly as published.
//   - to == base: 1 ÷ (base→from).
//   - otherwise: (base→to) ÷ (base→from), a cross through base, legs
//     base→from then base→to.
func deriveQuote(from, to, base string, get func(quote string) (fx.Rate, bool)) (fx.Quote, error) {
	q := fx.Quote{From: from, To: to}
	if from == to {
		q.Value = decimal.NewFromInt(1)
		return q, nil
	}
	leg := func(code string) (fx.Rate, error) {
		r, ok := get(code)
		if !ok {
			return fx.Rate{}, fmt.Errorf("%w: no %s/%s rate is stored, so %s/%s cannot be priced", fx.ErrRateNotFound, base, code, from, to)
		}
		return r, nil
	}
	switch {
	case from == base:
		rTo, err := leg(to)
		if err != nil {
			return fx.Quote{}, err
		}
		q.Value = rTo.Value
		q.Legs = []fx.Rate{rTo}
	case to == base:
		rFrom, err := leg(from)
		if err != nil {
			return fx.Quote{}, err
		}
		q.Value = fx.DivideRates(decimal.NewFromInt(1), rFrom.Value)
		q.Legs = []fx.Rate{rFrom}
	default:
		rFrom, err := leg(from)
		if err != nil {
			return fx.Quote{}, err
		}
		rTo, err := leg(to)
		if err != nil {
			return fx.Quote{}, err
		}
		q.Value = fx.DivideRates(rTo.Value, rFrom.Value)
		q.Legs = []fx.Rate{rFrom, rTo}
	}
	return q, nil
}

// TestConversionPastItsDeadlineIsNotCommitted: with conversion_audits
// locked, a conversion waits on the database until its request deadline,
// answers 503 database_unavailable, and is not committed when the lock
// goes away, with or without an Idempotency-Key. It used to wait as long
// as the lock lasted and commit after its client had given up.
func TestConversionPastItsDeadlineIsNotCommitted(t *testing.T) {
	w := oxrWorld(t, options{requestTimeout: 500 * time.Millisecond})
	ctx := context.Background()
	lock, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, "LOCK TABLE conversion_audits IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	body := `{"amount":"10.00","from_currency":"USD","to_currency":"NGN"}`
	var generated string
	for _, headers := range [][]string{nil, {"Idempotency-Key", "deadline-1"}} {
		r := w.post(t, "/api/v1/convert", body, headers...)
		if r.Status != 503 || !strings.Contains(string(r.Body), `"database_unavailable"`) {
			t.Fatalf("with the table locked (headers %v): %d %s", headers, r.Status, r.Body)
		}
		// The key to retry with comes back with the failure too.
		if k := r.Header.Get("Idempotency-Key"); headers == nil {
			if !strings.HasPrefix(k, "ces-") {
				t.Fatalf("a failed conversion without a key got no key to retry with: %q", k)
			}
			generated = k
		}
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // what a late commit would need
	if n := w.auditRows(t); n != 0 {
		t.Fatalf("%d conversions committed after their clients were told they failed", n)
	}
	for _, key := range []string{"deadline-1", generated} {
		if r := w.post(t, "/api/v1/convert", body, "Idempotency-Key", key); r.Status != 201 {
			t.Fatalf("key %s after the lock: %d %s", key, r.Status, r.Body)
		}
	}
	if n := w.auditRows(t); n != 2 {
		t.Fatalf("%d rows after the retries, want 2", n)
	}
}

// TestConversionWithoutKeyGetsOne: a conversion sent without an
// Idempotency-Key gets one from CES in the response, and resubmitting
// with it replays the receipt instead of converting twice.
func TestConversionWithoutKeyGetsOne(t *testing.T) {
	w := oxrWorld(t, options{})
	body := `{"amount":"10.00","from_currency":"USD","to_currency":"NGN"}`
	first := w.post(t, "/api/v1/convert", body)
	key := first.Header.Get("Idempotency-Key")
	if first.Status != 201 || !strings.HasPrefix(key, "ces-") {
		t.Fatalf("first: %d, Idempotency-Key %q", first.Status, key)
	}
	again := w.post(t, "/api/v1/convert", body, "Idempotency-Key", key)
	if again.Status != 200 || again.Header.Get("Idempotent-Replayed") != "true" || decodeReceipt(t, again).ID != decodeReceipt(t, first).ID {
		t.Fatalf("resubmit with the given key: %d %s", again.Status, again.Body)
	}
	other := w.post(t, "/api/v1/convert", body)
	if other.Header.Get("Idempotency-Key") == key {
		t.Fatal("two conversions without a key got the same key")
	}
	if n := w.auditRows(t); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestConvertKeyComesBackOnEvery503: a conversion that fails because the
// database cannot answer, here already when reading the rate (PostgreSQL
// closed, Redis empty), still gets its Idempotency-Key back, so that the
// client retries under the key whatever step failed.
func TestConvertKeyComesBackOnEvery503(t *testing.T) {
	for _, tc := range []struct{ name, key string }{
		{"without a key", ""},
		{"with a key", "client-key-7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, options{})
			// The client's key is checked (and kept) before PostgreSQL goes.
			if r := w.get(t, "/api/v1/conversions/0192f3a0-0000-7000-8000-000000000000"); r.Status != 404 {
				t.Fatalf("receipt lookup: %d %s", r.Status, r.Body)
			}
			w.db.Close()
			var headers []string
			if tc.key != "" {
				headers = []string{"Idempotency-Key", tc.key}
			}
			r := w.post(t, "/api/v1/convert", `{"amount":"1","from_currency":"USD","to_currency":"EUR"}`, headers...)
			got := r.Header.Get("Idempotency-Key")
			if r.Status != 503 || got == "" || (tc.key != "" && got != tc.key) {
				t.Fatalf("%d, Idempotency-Key %q: %s", r.Status, got, r.Body)
			}
		})
	}
}

// TestConvertPaysOutAtLeastOneMinorUnit: 1 VND was a 201 with
// "converted_amount":"0.00". The smallest amount the refusal names
// (computed with Python's decimal module from the recorded 23462.5 VND
// per USD, 20 significant digits, less the 0.5% margin) converts, and one
// dong less does not.
func TestConvertPaysOutAtLeastOneMinorUnit(t *testing.T) {
	w := oxrWorld(t, options{})
	for _, tt := range []struct {
		amount string
		status int
		want   string
	}{
		{"1", 400, "the smallest amount that converts is 236 VND"},
		{"235", 400, "235 VND converts to 0.009965 USD"},
		{"236", 201, `"converted_amount":"0.01"`},
	} {
		t.Run(tt.amount, func(t *testing.T) {
			r := w.post(t, "/api/v1/convert", `{"amount":"`+tt.amount+`","from_currency":"VND","to_currency":"USD"}`)
			if r.Status != tt.status || !strings.Contains(string(r.Body), tt.want) {
				t.Fatalf("%d %s, want %d saying %q", r.Status, r.Body, tt.status, tt.want)
			}
		})
	}
}
