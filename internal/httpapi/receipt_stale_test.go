package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/fx"
)

// usdJPY is one USD→JPY rate, published at asOf, whose text has a
// trailing zero.
func usdJPY(asOf time.Time) fx.RateSet {
	return fx.RateSet{Provider: "openexchangerates", Base: "USD", AsOf: asOf, PayloadHash: strings.Repeat("c", 64),
		Rates: []fx.QuotedRate{{Quote: "JPY", Value: decimal.RequireFromString("139.50")}}}
}

// figures is what these tests read of a receipt or a quote.
type figures struct {
	ID          string `json:"id"`
	MidRate     string `json:"mid_rate"`
	Margin      string `json:"margin"`
	AppliedRate string `json:"applied_rate"`
	Stale       *bool  `json:"stale"`
	Hash        string `json:"hash"`
}

func decodeFigures(t *testing.T, r response, status int) figures {
	t.Helper()
	var f figures
	if err := json.Unmarshal(r.Body, &f); err != nil || r.Status != status {
		t.Fatalf("%d %s (want %d)", r.Status, r.Body, status)
	}
	return f
}

// TestReceiptRatesAtMarginZero: at margin 0 a receipt's and a quote's mid
// and applied rates are the same string, in the shortest exact form the
// hash covers, though the provider wrote the rate with a trailing zero.
func TestReceiptRatesAtMarginZero(t *testing.T) {
	now := time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)
	w := newWorld(t, options{provider: "openexchangerates", now: now, staleAfter: 3 * time.Hour, margin: "0"})
	w.ingest(t, usdJPY(now.Add(-time.Hour)))
	body := `{"amount":"500.00","from_currency":"USD","to_currency":"JPY"}`
	r := w.post(t, "/api/v1/convert", body)
	rc := decodeFigures(t, r, 201)
	if rc.MidRate != "139.5" || rc.AppliedRate != rc.MidRate || rc.Margin != "0" {
		t.Fatalf("mid/margin/applied = %q/%q/%q, want 139.5/0/139.5", rc.MidRate, rc.Margin, rc.AppliedRate)
	}
	if again := w.get(t, "/api/v1/conversions/"+rc.ID); again.Status != 200 || string(again.Body) != string(r.Body) {
		t.Fatalf("GET receipt = %d %s\nPOST gave %s", again.Status, again.Body, r.Body)
	}
	q := decodeFigures(t, w.post(t, "/api/v1/quotes", body), 201)
	if q.MidRate != "139.5" || q.AppliedRate != q.MidRate || q.Margin != "0" {
		t.Fatalf("quote mid/margin/applied = %q/%q/%q, want 139.5/0/139.5", q.MidRate, q.Margin, q.AppliedRate)
	}
}

// TestReceiptSaysStale: a conversion priced from a leg older than its
// provider's staleness bound (RATE_STALE_AFTER) but within
// CONVERT_MAX_RATE_AGE says stale:true, as its receipt read back, its
// quote and the quote's conversion do, and each hash covers the flag; a
// fresh one says false.
func TestReceiptSaysStale(t *testing.T) {
	now := time.Date(2022, 9, 1, 4, 0, 0, 0, time.UTC)
	body := `{"amount":"500.00","from_currency":"USD","to_currency":"JPY"}`
	for _, tt := range []struct {
		name  string
		age   time.Duration
		stale bool
	}{
		{"fresh", 30 * time.Minute, false},
		{"older than RATE_STALE_AFTER, within CONVERT_MAX_RATE_AGE", 2 * time.Hour, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, options{provider: "openexchangerates", now: now, staleAfter: time.Hour, maxAge: 10 * time.Hour})
			w.ingest(t, usdJPY(now.Add(-tt.age)))
			check := func(what string, f figures) {
				t.Helper()
				if f.Stale == nil || *f.Stale != tt.stale {
					t.Fatalf("%s: stale = %v, want %t", what, f.Stale, tt.stale)
				}
			}
			rc := decodeFigures(t, w.post(t, "/api/v1/convert", body), 201)
			check("receipt", rc)
			check("receipt read back", decodeFigures(t, w.get(t, "/api/v1/conversions/"+rc.ID), 200))
			stored, err := w.st.Conversions.ConversionByID(ctx, rc.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := "stale=" + map[bool]string{true: "true", false: "false"}[tt.stale] + "\n"
			if canon := audit.Canonical(stored); !strings.HasPrefix(canon, "ces-receipt=v6\n") || !strings.HasSuffix(canon, want) {
				t.Fatalf("hashed text does not record the flag:\n%s", canon)
			}
			if audit.ReceiptHash(stored) != rc.Hash {
				t.Fatal("the stored receipt does not hash to the receipt's hash")
			}

			q := decodeFigures(t, w.post(t, "/api/v1/quotes", body), 201)
			check("quote", q)
			quoted := decodeFigures(t, w.post(t, "/api/v1/convert", `{"quote_id":"`+q.ID+`"}`), 201)
			check("conversion of the quote", quoted)
			stored, err = w.st.Conversions.ConversionByID(ctx, quoted.ID)
			if err != nil || audit.ReceiptHash(stored) != quoted.Hash || !strings.HasSuffix(audit.Canonical(stored), "quote_id="+q.ID+"\n"+want) {
				t.Fatalf("stored conversion of the quote: %+v, %v", stored, err)
			}
			sq, err := w.st.Conversions.ClientQuote(ctx, w.keyID, q.ID)
			if err != nil || sq.Stale == nil || *sq.Stale != tt.stale || audit.CheckQuoted(stored, sq) != nil {
				t.Fatalf("stored quote: %+v, %v", sq, err)
			}
		})
	}
}
