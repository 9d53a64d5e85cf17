package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/clients"
	"ces/internal/testenv"
)

type quoteAnswer struct {
	ID              string `json:"id"`
	ExpiresAt       string `json:"expires_at"`
	MidRate         string `json:"mid_rate"`
	AppliedRate     string `json:"applied_rate"`
	ConvertedAmount string `json:"converted_amount"`
	Legs            []struct {
		ID int64 `json:"id"`
	} `json:"legs"`
}

func (w *world) quote(t *testing.T, body string, headers ...string) quoteAnswer {
	t.Helper()
	r := w.post(t, "/api/v1/quotes", body, headers...)
	var q quoteAnswer
	if err := json.Unmarshal(r.Body, &q); err != nil || r.Status != 201 || q.ID == "" {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	return q
}

// TestQuoteLocksTheRateOnce: a conversion of a quote executes at the
// quote's figures although the rate moved since, exactly once; a replay of
// its Idempotency-Key returns the receipt; a second use and another
// client's quote are refused and write nothing (expiry:
// TestQuoteExpiresByTheDatabaseClock).
func TestQuoteLocksTheRateOnce(t *testing.T) {
	w := oxrWorld(t, options{})
	q := w.quote(t, usdEUR)
	if want := w.now.Add(30 * time.Second).Format("2006-01-02T15:04:05.000000Z"); q.ExpiresAt != want {
		t.Fatalf("expires_at %s, want %s (QUOTE_TTL 30 s)", q.ExpiresAt, want)
	}
	// The rate moves before the client converts.
	moved := oxrLatest(t)
	moved.AsOf, moved.PayloadHash = moved.AsOf.Add(30*time.Minute), strings.Repeat("b", 64)
	for i := range moved.Rates {
		if moved.Rates[i].Quote == "EUR" {
			moved.Rates[i].Value = decimal.RequireFromString("0.95")
		}
	}
	w.ingest(t, moved)
	if r := w.post(t, "/api/v1/convert", usdEUR); !strings.Contains(string(r.Body), `"mid_rate":"0.95"`) {
		t.Fatalf("the rate did not move for unquoted conversions: %s", r.Body)
	}
	before := w.auditRows(t)
	// In upper case: the receipt still records (and hashes) the id as stored.
	body := `{"quote_id":"` + strings.ToUpper(q.ID) + `"}`
	r := w.post(t, "/api/v1/convert", body, "Idempotency-Key", "pay-q1")
	var rc struct {
		ID              string `json:"id"`
		MidRate         string `json:"mid_rate"`
		AppliedRate     string `json:"applied_rate"`
		ConvertedAmount string `json:"converted_amount"`
		QuoteID         string `json:"quote_id"`
	}
	json.Unmarshal(r.Body, &rc)
	if r.Status != 201 || rc.MidRate != q.MidRate || rc.AppliedRate != q.AppliedRate || rc.ConvertedAmount != q.ConvertedAmount || rc.QuoteID != q.ID {
		t.Fatalf("quoted conversion: %d %s\nquote %+v", r.Status, r.Body, q)
	}
	stored, err := w.st.Conversions.ConversionByID(context.Background(), rc.ID)
	if err != nil || stored.QuoteID != q.ID || !strings.Contains(audit.Canonical(stored), "quote_id="+q.ID) || stored.Legs[0].ID != q.Legs[0].ID {
		t.Fatalf("stored receipt %+v, %v", stored, err)
	}
	if err := audit.CheckArithmetic(stored); err != nil {
		t.Fatalf("the quoted receipt does not recompute: %v", err)
	}
	if replay := w.post(t, "/api/v1/convert", body, "Idempotency-Key", "pay-q1"); replay.Status != 200 || !strings.Contains(string(replay.Body), rc.ID) {
		t.Fatalf("replay: %d %s", replay.Status, replay.Body)
	}
	for _, tt := range []struct {
		name, body string
		headers    []string
		status     int
		code       string
	}{
		{"used again", body, nil, 409, "quote_used"},
		{"used again under another key", body, []string{"Idempotency-Key", "pay-q1-again"}, 409, "quote_used"},
		{"not a quote id", `{"quote_id":"nope"}`, nil, 404, "quote_not_found"},
		{"no such quote", `{"quote_id":"0192f3a0-0000-7000-8000-000000000000"}`, nil, 404, "quote_not_found"},
		{"with an amount", `{"quote_id":"` + q.ID + `","amount":"5"}`, nil, 400, "malformed_body"},
		{"quote_id not a string", `{"quote_id":7}`, nil, 400, "malformed_body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := w.post(t, "/api/v1/convert", tt.body, tt.headers...)
			if e := decodeErr(t, r); r.Status != tt.status || e.Error.Code != tt.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
		})
	}
	other, _ := w.newKey(t, "other", clients.ScopeConvert)
	mine := w.quote(t, usdEUR)
	if r := w.post(t, "/api/v1/convert", `{"quote_id":"`+mine.ID+`"}`, "Authorization", "Bearer "+other); r.Status != 404 || decodeErr(t, r).Error.Code != "quote_not_found" {
		t.Fatalf("another client's quote: %d %s", r.Status, r.Body)
	}
	if n := w.auditRows(t); n != before+1 { // the quoted conversion alone
		t.Fatalf("%d audit rows, want %d", n, before+1)
	}

	// verify-audit checks each quoted receipt against its (hashed) quote.
	sealing := testenv.NewSealing(t)
	if rep := sealing.Verify(t, w.st, true); !rep.OK() {
		t.Fatalf("verify: %s", rep.Problem)
	}
	testenv.AsOwner(t, w.db, "UPDATE conversion_quotes SET converted_amount = converted_amount * 2 WHERE id = ?", q.ID)
	if rep := sealing.Verify(t, w.st, true); !strings.Contains(rep.Problem, "quote "+q.ID+" (of audit row "+rc.ID+"): stored hash does not match") {
		t.Fatalf("a rewritten quote: verify says %q", rep.Problem)
	}
}

// TestFiftyConversionsOfOneQuote: fifty concurrent conversions of one
// quote (no Idempotency-Key) make exactly one receipt; the others are
// 409 quote_used.
func TestFiftyConversionsOfOneQuote(t *testing.T) {
	w := oxrWorld(t, options{})
	q := w.quote(t, usdEUR)
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- w.post(t, "/api/v1/convert", `{"quote_id":"`+q.ID+`"}`).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != 49 {
		t.Fatalf("statuses %v, want one 201 and 49 409", count)
	}
	if n := w.auditRows(t); n != 1 {
		t.Fatalf("%d receipts, want 1", n)
	}
}

// TestQuotesNeedTheConvertScope: quoting is part of converting.
func TestQuotesNeedTheConvertScope(t *testing.T) {
	w := oxrWorld(t, options{})
	reader, _ := w.newKey(t, "reader", clients.ScopeRatesRead)
	for _, tt := range []struct {
		header string
		status int
	}{{"-", 401}, {"Bearer " + reader, 403}} {
		if r := w.post(t, "/api/v1/quotes", usdEUR, "Authorization", tt.header); r.Status != tt.status {
			t.Fatalf("%s: %d %s", tt.header, r.Status, r.Body)
		}
	}
	for _, body := range []string{`{"quote_id":"x"}`, `{"amount":"1","from_currency":"VND","to_currency":"USD"}`} {
		if r := w.post(t, "/api/v1/quotes", body); r.Status != 400 {
			t.Fatalf("%s: %d %s", body, r.Status, r.Body)
		}
	}
	var n int
	if err := w.db.QueryRow("SELECT count(*) FROM conversion_quotes").Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused quote requests stored %d quotes (%v)", n, err)
	}
}

// TestQuoteExpiresByTheDatabaseClock converts quotes on an API whose
// clock stands still (as a replica's lagging clock would): whether a
// quote still holds is the database's call, its TTL counted from when the
// database recorded it.
func TestQuoteExpiresByTheDatabaseClock(t *testing.T) {
	w := oxrWorld(t, options{quoteTTL: time.Second})
	fresh := w.quote(t, usdEUR)
	if r := w.post(t, "/api/v1/convert", `{"quote_id":"`+fresh.ID+`"}`); r.Status != 201 {
		t.Fatalf("a quote within its TTL: %d %s", r.Status, r.Body)
	}
	before := w.auditRows(t)
	late := w.quote(t, usdEUR)
	time.Sleep(1100 * time.Millisecond) // the TTL passes on the database's clock, not on the API's
	r := w.post(t, "/api/v1/convert", `{"quote_id":"`+late.ID+`"}`)
	if e := decodeErr(t, r); r.Status != 409 || e.Error.Code != "quote_expired" || e.Error.Field != "quote_id" {
		t.Fatalf("a quote past its TTL by the database's clock: %d %s", r.Status, r.Body)
	}
	if n := w.auditRows(t); n != before {
		t.Fatalf("%d audit rows, want %d: an expired quote wrote a receipt", n, before)
	}
}
