package conversions_test

import (
	"context"
	"testing"
	"time"

	"ces/internal/conversions"
	"ces/internal/rates"
)

// TestStale: a receipt and a quote say stale when a leg is older than its
// provider's bound at the instant of pricing, whether the rate lookup
// judged it so when its books were built or the leg aged past the bound
// since; a conversion of a quote says what the quote said.
func TestStale(t *testing.T) {
	bound := map[string]time.Duration{"ecb": 90 * time.Minute, "oxr": 3 * time.Hour}
	staleNGN := func() rates.Result { r := eurNGN; r.Stale = true; return r }()
	tests := []struct {
		name   string
		result rates.Result
		now    time.Time
		want   bool
	}{
		{"fresh legs", eurNGN, t0.Add(-time.Hour), false},
		{"a leg past its bound at the instant of pricing", eurNGN, t0, true}, // ecb's leg is 2 h old, its bound 90 min
		{"the lookup judged it stale", staleNGN, t0.Add(-time.Hour), true},   // its books were built later than now
		{"a single fresh leg", eurUSD, t0.Add(-30 * time.Minute), false},     // 90 min old: at the bound, not past it
		{"a single leg past its bound", eurUSD, t0.Add(-30*time.Minute + time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			l := &ledger{clock: tt.now}
			svc := conversions.New(newPricer(tt.result, nil), l, conversions.Options{
				Margin: dec("0.005"), MaxRateAge: func(string) time.Duration { return 48 * time.Hour },
				StaleAfter: func(p string) time.Duration { return bound[p] }, Now: func() time.Time { return tt.now },
			})
			to := tt.result.To
			r, _, err := svc.Convert(ctx, conversions.Request{Amount: "100.00", From: "EUR", To: to, APIKeyID: keyA})
			if err != nil || r.Stale == nil || *r.Stale != tt.want {
				t.Fatalf("receipt stale = %v (%v), want %t", r.Stale, err, tt.want)
			}
			q, err := svc.Quote(ctx, conversions.Request{Amount: "100.00", From: "EUR", To: to, APIKeyID: keyA})
			if err != nil || q.Stale == nil || *q.Stale != tt.want {
				t.Fatalf("quote stale = %v (%v), want %t", q.Stale, err, tt.want)
			}
			// The quote is executed at an instant its legs have aged past
			// any bound: it carries the quote's flag, not a new one.
			later := conversions.New(newPricer(tt.result, nil), l, conversions.Options{
				Margin: dec("0.005"), MaxRateAge: func(string) time.Duration { return 48 * time.Hour },
				StaleAfter: func(string) time.Duration { return 0 }, Now: func() time.Time { return tt.now.Add(time.Second) },
			})
			qr, _, err := later.Convert(ctx, conversions.Request{QuoteID: q.ID, APIKeyID: keyA})
			if err != nil || qr.Stale == nil || *qr.Stale != tt.want || qr.QuoteID != q.ID {
				t.Fatalf("conversion of the quote: stale = %v (%v), want %t", qr.Stale, err, tt.want)
			}
		})
	}
	// Without a bound (nil StaleAfter) the lookup's judgement alone decides.
	svc := conversions.New(newPricer(eurUSD, nil), &ledger{clock: t0}, conversions.Options{
		Margin: dec("0.005"), MaxRateAge: func(string) time.Duration { return 48 * time.Hour }, Now: func() time.Time { return t0 },
	})
	if r, _, err := svc.Convert(context.Background(), conversions.Request{Amount: "1.00", From: "EUR", To: "USD", APIKeyID: keyA}); err != nil || r.Stale == nil || *r.Stale {
		t.Fatalf("without a bound: stale = %v (%v), want false", r.Stale, err)
	}
}
