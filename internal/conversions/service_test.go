package conversions_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/audit"
	"ces/internal/conversions"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/rates"
)

// These tests cover the Service's branching over small in-memory stand-ins
// for the rate service and PostgreSQL (fakes_test.go); the API's tests run
// it against the real ones.

var t0 = time.Date(2026, 5, 21, 14, 0, 0, 0, time.UTC)

const (
	keyA    = "0196f0a4-0000-7000-8000-00000000000a"
	keyB    = "0196f0a4-0000-7000-8000-00000000000b"
	quoteID = "0196f0a4-2b1c-7d3e-8f40-123456789abc"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func rate(id int64, provider, base, quote, value string, asOf time.Time) fx.Rate {
	return fx.Rate{ID: id, Provider: provider, Base: base, Quote: quote, Value: dec(value), AsOf: asOf, FetchedAt: asOf.Add(time.Minute)}
}

var (
	ecbUSD = rate(1, "ecb", "EUR", "USD", "1.0850", t0.Add(-2*time.Hour))
	oxrNGN = rate(3, "oxr", "USD", "NGN", "1530.25", t0.Add(-time.Hour))
)

// result is what the rate service answers for from→to through legs.
func result(from, to, rule, provider, value string, legs ...fx.Rate) rates.Result {
	q := fx.Quote{From: from, To: to, Value: dec(value), Provider: provider, Rule: rule, Legs: legs}
	q.AsOf, q.FetchedAt = legs[0].AsOf, legs[0].FetchedAt
	for _, l := range legs[1:] {
		if l.AsOf.Before(q.AsOf) {
			q.AsOf, q.FetchedAt = l.AsOf, l.FetchedAt
		}
	}
	return rates.Result{Quote: q, Source: rates.FromCache}
}

var (
	eurUSD = result("EUR", "USD", policy.RuleDirect, "ecb", "1.0850", ecbUSD)
	eurNGN = result("EUR", "NGN", policy.RuleCrossProvider, "ecb+oxr", "1660.32125", ecbUSD, oxrNGN)
)

// lockedQuote is keyA's quote of 100.00 EUR in USD, made ten seconds
// before t0 and holding twenty seconds after it.
func lockedQuote() fx.LockedQuote {
	return fx.LockedQuote{
		ID: quoteID, APIKeyID: keyA, CreatedAt: t0.Add(-10 * time.Second), ExpiresAt: t0.Add(20 * time.Second),
		Pricing: fx.Pricing{
			Amount: dec("100.00"), From: "EUR", To: "USD", MidRate: dec("1.0850"), Margin: dec("0.005"),
			AppliedRate: dec("1.0795750"), ConvertedAmount: dec("107.96"), Rounding: fx.Rounding, MinorUnits: 2,
			RatePrecision: fx.DerivedSignificantDigits, Provider: "ecb", Rule: policy.RuleDirect, AsOf: ecbUSD.AsOf, Legs: []fx.Rate{ecbUSD},
		},
	}
}

func newService(p *pricer, l *ledger, now time.Time, maxConcurrent int) *conversions.Service {
	return conversions.New(p, l, conversions.Options{
		Margin:        dec("0.005"),
		MaxRateAge:    func(string) time.Duration { return 48 * time.Hour },
		Now:           func() time.Time { return now },
		MaxConcurrent: maxConcurrent,
	})
}

// repairs returns the providers whose cache repair was asked, waiting for
// want of them (repairs run in the background), then a moment for any
// other.
func repairs(p *pricer, want int) []string {
	var got []string
	timeout := time.After(2 * time.Second)
	for len(got) < want {
		select {
		case prov := <-p.repaired:
			got = append(got, prov)
		case <-timeout:
			return got
		}
	}
	for {
		select {
		case prov := <-p.repaired:
			got = append(got, prov)
		case <-time.After(20 * time.Millisecond):
			sort.Strings(got)
			return got
		}
	}
}

func ids(legs []fx.Rate) []int64 {
	out := make([]int64, len(legs))
	for i, l := range legs {
		out[i] = l.ID
	}
	return out
}

// checkField checks that err is a FieldError naming field, or none when
// field is empty.
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *conversions.FieldError
	switch isField := errors.As(err, &fe); {
	case field == "" && isField:
		t.Errorf("%v is a field error of %s, want none", err, fe.Field())
	case field != "" && !isField:
		t.Errorf("%v is not a field error, want one of %s", err, field)
	case field != "" && fe.Field() != field:
		t.Errorf("%v is a field error of %s, want %s", err, fe.Field(), field)
	}
}

// TestConvert: what a conversion answers and writes, for each way it can
// go.
func TestConvert(t *testing.T) {
	direct := conversions.Request{Amount: "100.00", From: "EUR", To: "USD", IdempotencyKey: "k1", RequestID: "req-1",
		ClientAddress: "192.0.2.1", APIKeyID: keyA}
	with := func(r conversions.Request, edit func(*conversions.Request)) conversions.Request {
		edit(&r)
		return r
	}
	quoted := conversions.Request{QuoteID: quoteID, IdempotencyKey: "kq", APIKeyID: keyA}
	// prev is a receipt keyA already has under k1 for 100.00 EUR in USD.
	prev := fx.Receipt{ID: "0196f0a4-0000-7000-8000-000000000001", APIKeyID: keyA, IdempotencyKey: "k1",
		RequestSHA256: fx.RequestHash(dec("100.00"), "EUR", "USD"), Pricing: lockedQuote().Pricing}
	holds := func(rs ...fx.Receipt) func(*ledger) {
		return func(l *ledger) { l.receipts = append(l.receipts, rs...) }
	}
	quoteHeld := func(l *ledger) { l.quotes = append(l.quotes, lockedQuote()) }
	wrapped := func(target error) error { return errors.Join(errors.New("store: leg 1 (ecb EUR/USD)"), target) }

	tests := []struct {
		name    string
		req     conversions.Request
		rate    rates.Result // zero: eurUSD
		rateErr error
		now     time.Time // the replica's clock; zero: t0
		setup   func(*ledger)
		err     error
		field   string // the FieldError's field, when err is one
		// asked: the rate service was asked for the request's pair;
		// keyBack: a failed conversion gives the idempotency key back.
		asked, keyBack, replayed bool
		writes                   int // receipts written by the call
		repaired                 []string
		check                    func(t *testing.T, r fx.Receipt, l *ledger)
	}{
		{name: "converts once at the legs the rate service gave", req: direct, asked: true, writes: 1,
			check: func(t *testing.T, r fx.Receipt, l *ledger) {
				if fx.Exact(r.ConvertedAmount) != "107.96" || !r.Amount.Equal(dec("100")) || !r.MidRate.Equal(dec("1.0850")) ||
					!r.Margin.Equal(dec("0.005")) || !r.AppliedRate.Equal(dec("1.079575")) {
					t.Errorf("priced %s × %s (mid %s, margin %s) = %s; want 100 × 1.079575 (mid 1.0850, margin 0.005) = 107.96",
						r.Amount, r.AppliedRate, r.MidRate, r.Margin, fx.Exact(r.ConvertedAmount))
				}
				if r.Provider != "ecb" || r.Rule != policy.RuleDirect || !slices.Equal(ids(r.Legs), []int64{1}) || !r.Legs[0].Value.Equal(ecbUSD.Value) ||
					!r.AsOf.Equal(ecbUSD.AsOf) || r.MinorUnits != 2 || r.RatePrecision != fx.DerivedSignificantDigits || r.Rounding != fx.Rounding {
					t.Errorf("receipt %+v does not carry the rate service's legs and the rounding", r.Pricing)
				}
				if !conversions.ValidID(r.ID) || !r.CreatedAt.Equal(t0) || r.APIKeyID != keyA || r.IdempotencyKey != "k1" ||
					r.RequestID != "req-1" || r.ClientAddress != "192.0.2.1" || r.RequestSHA256 != fx.RequestHash(dec("100"), "EUR", "USD") {
					t.Errorf("receipt %+v does not carry the request", r)
				}
				if r.Hash == "" || r.Hash != audit.ReceiptHash(r) {
					t.Errorf("hash %q, want audit.ReceiptHash's %q", r.Hash, audit.ReceiptHash(r))
				}
				if w := l.written(); w[0].ID != r.ID || w[0].Hash != r.Hash {
					t.Errorf("wrote %s (%s), answered %s (%s)", w[0].ID, w[0].Hash, r.ID, r.Hash)
				}
				if want := []string{"ConversionByKey", "RecordConversion"}; !slices.Equal(l.called(), want) {
					t.Errorf("store calls %v, want %v", l.called(), want)
				}
			}},
		{name: "a cross keeps both legs", req: with(direct, func(r *conversions.Request) { r.To, r.Amount = "NGN", "10.00" }),
			rate: eurNGN, asked: true, writes: 1,
			check: func(t *testing.T, r fx.Receipt, _ *ledger) {
				if fx.Exact(r.ConvertedAmount) != "16520.20" || r.Provider != "ecb+oxr" || !slices.Equal(ids(r.Legs), []int64{1, 3}) || !r.AsOf.Equal(ecbUSD.AsOf) {
					t.Errorf("receipt %s NGN from %s legs %v as of %s; want 16520.20 from ecb+oxr legs [1 3] as of the older leg",
						fx.Exact(r.ConvertedAmount), r.Provider, ids(r.Legs), r.AsOf)
				}
			}},
		{name: "without a key, CES makes one and records the conversion as new",
			req: with(direct, func(r *conversions.Request) { r.IdempotencyKey = "" }), asked: true, writes: 1,
			check: func(t *testing.T, r fx.Receipt, l *ledger) {
				if !strings.HasPrefix(r.IdempotencyKey, conversions.GeneratedKeyPrefix) {
					t.Errorf("key %q, want one CES made", r.IdempotencyKey)
				}
				if want := []string{"RecordNewConversion"}; !slices.Equal(l.called(), want) {
					t.Errorf("store calls %v, want %v: a key just made needs no lookup", l.called(), want)
				}
			}},
		{name: "a key used before replays its receipt, priced and written once", req: direct, setup: holds(prev), replayed: true,
			check: func(t *testing.T, r fx.Receipt, l *ledger) {
				if r.ID != prev.ID {
					t.Errorf("replayed %s, want %s", r.ID, prev.ID)
				}
				if want := []string{"ConversionByKey"}; !slices.Equal(l.called(), want) {
					t.Errorf("store calls %v, want %v", l.called(), want)
				}
			}},
		{name: "the same amount written otherwise is the same request",
			req: with(direct, func(r *conversions.Request) { r.Amount = "100" }), setup: holds(prev), replayed: true},
		{name: "a key used before for another request is refused",
			req: with(direct, func(r *conversions.Request) { r.Amount = "100.01" }), setup: holds(prev), err: fx.ErrIdempotencyKeyReused},
		{name: "another client's key is not this one's", req: with(direct, func(r *conversions.Request) { r.APIKeyID = keyB }),
			setup: holds(prev), asked: true, writes: 1},
		{name: "a rate under review is not converted", req: direct,
			rate:  func() rates.Result { r := eurUSD; r.UnderReview = true; return r }(),
			asked: true, err: fx.ErrRateUnderReview, keyBack: true},
		{name: "a leg the store finds under review is not converted", req: direct, setup: func(l *ledger) { l.refuse = wrapped(fx.ErrRateUnderReview) },
			asked: true, err: fx.ErrRateUnderReview, keyBack: true},
		{name: "a leg the store contradicts repairs every leg's provider", req: with(direct, func(r *conversions.Request) { r.To = "NGN" }),
			rate: eurNGN, setup: func(l *ledger) { l.refuse = wrapped(fx.ErrRateMismatch) },
			asked: true, err: fx.ErrRateMismatch, keyBack: true, repaired: []string{"ecb", "oxr"}},
		{name: "a key revoked since the request was authenticated", req: direct, setup: func(l *ledger) { l.revoked = map[string]bool{keyA: true} },
			asked: true, err: fx.ErrUnauthorized},
		{name: "a leg older than CONVERT_MAX_RATE_AGE", req: direct,
			rate:  result("EUR", "USD", policy.RuleDirect, "ecb", "1.0850", rate(1, "ecb", "EUR", "USD", "1.0850", t0.Add(-49*time.Hour))),
			asked: true, err: fx.ErrRateUnavailable},
		{name: "an amount that pays out less than a minor unit",
			req:  with(direct, func(r *conversions.Request) { r.From, r.To, r.Amount = "JPY", "USD", "1" }),
			rate: result("JPY", "USD", policy.RuleInverse, "oxr", "0.0067", rate(5, "oxr", "USD", "JPY", "149.25", t0.Add(-time.Hour))), asked: true, err: fx.ErrAmountTooSmall, field: "amount"},
		{name: "a withdrawn currency is not converted", req: with(direct, func(r *conversions.Request) { r.From = "HRK" }),
			err: fx.ErrInvalidCurrency, field: "from_currency"},
		{name: "a currency without minor units is not converted", req: with(direct, func(r *conversions.Request) { r.To = "XAU" }),
			err: fx.ErrInvalidCurrency, field: "to_currency"},
		{name: "an amount with more decimals than the currency", req: with(direct, func(r *conversions.Request) { r.Amount = "100.001" }),
			err: fx.ErrInvalidAmount, field: "amount"},
		{name: "a pair no rate prices", req: direct, rateErr: fx.ErrRateNotFound, asked: true, err: fx.ErrRateNotFound},
		{name: "a suspended pair", req: direct, rateErr: fx.ErrPairSuspended, asked: true, err: fx.ErrPairSuspended},
		{name: "nothing ingested yet", req: direct, rateErr: fx.ErrNoRates, asked: true, err: fx.ErrRateUnavailable},
		{name: "the rates cannot be read", req: direct, rateErr: errors.New("pool closed"), asked: true,
			err: fx.ErrDatabaseUnavailable, keyBack: true},
		{name: "the database is down before anything is priced", req: direct, setup: func(l *ledger) { l.down = errors.New("pool closed") },
			err: fx.ErrDatabaseUnavailable, keyBack: true},
		{name: "a write that failed is not found committed", req: direct, setup: func(l *ledger) { l.fail = errors.New("connection reset") },
			asked: true, err: fx.ErrDatabaseUnavailable, keyBack: true},
		{name: "a write that committed although its answer was lost is found", req: direct,
			setup: func(l *ledger) { l.lost = errors.New("commit: connection reset") }, asked: true, writes: 1,
			check: func(t *testing.T, r fx.Receipt, l *ledger) {
				if w := l.written(); r.ID != w[0].ID {
					t.Errorf("answered %q, wrote %s", r.ID, w[0].ID)
				}
			}},

		{name: "a quote converts at its own figures", req: with(quoted, func(r *conversions.Request) { r.QuoteID = strings.ToUpper(quoteID) }),
			setup: quoteHeld, writes: 1,
			check: func(t *testing.T, r fx.Receipt, l *ledger) {
				q := lockedQuote()
				if r.QuoteID != quoteID || fx.Exact(r.ConvertedAmount) != "107.96" || !r.AppliedRate.Equal(q.AppliedRate) || !slices.Equal(ids(r.Legs), ids(q.Legs)) {
					t.Errorf("receipt of quote %s: %s at %s from legs %v; want the quote's 107.96 at %s from %v",
						r.QuoteID, fx.Exact(r.ConvertedAmount), r.AppliedRate, ids(r.Legs), q.AppliedRate, ids(q.Legs))
				}
				if r.RequestSHA256 != fx.QuoteRequestHash(quoteID) {
					t.Errorf("request hash %s, want the quote's", r.RequestSHA256)
				}
			}},
		// Whether a quote holds is the database's to say (one clock for
		// every replica), not this replica's.
		{name: "a quote expired by the database's clock", req: quoted, now: t0,
			setup: func(l *ledger) { quoteHeld(l); l.clock = t0.Add(21 * time.Second) },
			err:   fx.ErrQuoteExpired, field: "quote_id"},
		{name: "a quote expired by this replica's clock alone still converts", req: quoted, now: t0.Add(time.Minute),
			setup: quoteHeld, writes: 1},
		{name: "another client's quote is not found", req: with(quoted, func(r *conversions.Request) { r.APIKeyID = keyB }),
			setup: quoteHeld, err: fx.ErrQuoteNotFound, field: "quote_id"},
		{name: "a quote id that is no id is not found, nor looked for", req: with(quoted, func(r *conversions.Request) { r.QuoteID = "{" + quoteID + "}" }),
			setup: quoteHeld, err: fx.ErrQuoteNotFound, field: "quote_id",
			check: func(t *testing.T, _ fx.Receipt, l *ledger) {
				if len(l.called()) > 0 {
					t.Errorf("store calls %v, want none", l.called())
				}
			}},
		{name: "a quote converts once", req: quoted,
			setup: func(l *ledger) {
				quoteHeld(l)
				first := fx.Receipt{ID: "0196f0a4-0000-7000-8000-000000000002", APIKeyID: keyA, IdempotencyKey: "k-first", QuoteID: quoteID}
				l.receipts = append(l.receipts, first)
			},
			err: fx.ErrQuoteUsed},
		{name: "a quote of a key revoked since", req: quoted, setup: func(l *ledger) { quoteHeld(l); l.revoked = map[string]bool{keyA: true} },
			err: fx.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.rate
			if res.Rule == "" {
				res = eurUSD
			}
			p := newPricer(res, tt.rateErr)
			l := &ledger{clock: t0}
			if tt.setup != nil {
				tt.setup(l)
			}
			before := len(l.written())
			l.calls = nil
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			got, replayed, err := newService(p, l, now, 0).Convert(context.Background(), tt.req)

			if tt.err == nil && err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Convert = %v; want %v", err, tt.err)
			}
			checkField(t, err, tt.field)
			if tt.err != fx.ErrDatabaseUnavailable && errors.Is(err, fx.ErrDatabaseUnavailable) {
				t.Errorf("%v is also a database failure", err)
			}
			if replayed != tt.replayed {
				t.Errorf("replayed %t, want %t", replayed, tt.replayed)
			}
			if n := len(l.written()) - before; n != tt.writes {
				t.Errorf("%d receipts written, want %d", n, tt.writes)
			}
			var want []string
			if tt.asked {
				want = []string{tt.req.From + "/" + tt.req.To + " "}
			}
			if !slices.Equal(p.lookups(), want) {
				t.Errorf("rate lookups %v, want %v", p.lookups(), want)
			}
			if err != nil {
				switch key := got.IdempotencyKey; {
				case tt.keyBack && (key == "" || tt.req.IdempotencyKey != "" && key != tt.req.IdempotencyKey):
					t.Errorf("key %q given back, want the request's", key)
				case !tt.keyBack && key != "":
					t.Errorf("key %q given back with %v", key, err)
				}
				if got.ID != "" {
					t.Errorf("a receipt %s with the error", got.ID)
				}
			}
			if got := repairs(p, len(tt.repaired)); !slices.Equal(got, tt.repaired) {
				t.Errorf("repairs asked %v, want %v", got, tt.repaired)
			}
			if tt.check != nil {
				tt.check(t, got, l)
			}
		})
	}
}

// TestQuote: a quote is priced as a conversion would be and held for
// QuoteTTL, or refused with nothing stored.
func TestQuote(t *testing.T) {
	req := conversions.Request{Amount: "100.00", From: "EUR", To: "USD", APIKeyID: keyA}
	tests := []struct {
		name     string
		req      conversions.Request
		rate     rates.Result
		setup    func(*ledger)
		err      error
		field    string
		repaired []string
	}{
		{name: "holds the price for QuoteTTL", req: req, rate: eurUSD},
		{name: "a rate under review is not quoted", req: req, rate: func() rates.Result { r := eurUSD; r.UnderReview = true; return r }(),
			err: fx.ErrRateUnderReview},
		{name: "a leg the store finds under review", req: req, rate: eurUSD,
			setup: func(l *ledger) { l.refuse = fx.ErrRateUnderReview }, err: fx.ErrRateUnderReview},
		{name: "a leg the store contradicts repairs its provider", req: req, rate: eurUSD,
			setup: func(l *ledger) { l.refuse = fx.ErrRateMismatch }, err: fx.ErrRateMismatch, repaired: []string{"ecb"}},
		{name: "a key revoked since", req: req, rate: eurUSD,
			setup: func(l *ledger) { l.revoked = map[string]bool{keyA: true} }, err: fx.ErrUnauthorized},
		{name: "the database down", req: req, rate: eurUSD,
			setup: func(l *ledger) { l.down = errors.New("pool closed") }, err: fx.ErrDatabaseUnavailable},
		{name: "a withdrawn currency", req: conversions.Request{Amount: "100.00", From: "EUR", To: "BGN", APIKeyID: keyA}, rate: eurUSD,
			err: fx.ErrInvalidCurrency, field: "to_currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPricer(tt.rate, nil)
			l := &ledger{clock: t0}
			if tt.setup != nil {
				tt.setup(l)
			}
			q, err := newService(p, l, t0, 0).Quote(context.Background(), tt.req)
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("Quote = %v; want %v", err, tt.err)
			}
			checkField(t, err, tt.field)
			stored := l.storedQuotes()
			if tt.err != nil {
				if len(stored) != 0 || q.ID != "" {
					t.Errorf("stored %d quotes, answered %q with %v; want none", len(stored), q.ID, err)
				}
			} else {
				if len(stored) != 1 || stored[0].ID != q.ID {
					t.Fatalf("stored %v, answered %s", stored, q.ID)
				}
				if !q.CreatedAt.Equal(t0) || !q.ExpiresAt.Equal(t0.Add(conversions.DefaultQuoteTTL)) || q.APIKeyID != keyA {
					t.Errorf("quote made %s, expiring %s, for %s; want %s, %s later, for %s", q.CreatedAt, q.ExpiresAt, q.APIKeyID, t0, conversions.DefaultQuoteTTL, keyA)
				}
				if fx.Exact(q.ConvertedAmount) != "107.96" || !q.AppliedRate.Equal(dec("1.079575")) || !slices.Equal(ids(q.Legs), []int64{1}) {
					t.Errorf("quoted %s at %s from %v; want 107.96 at 1.079575 from [1]", fx.Exact(q.ConvertedAmount), q.AppliedRate, ids(q.Legs))
				}
			}
			if got := repairs(p, len(tt.repaired)); !slices.Equal(got, tt.repaired) {
				t.Errorf("repairs asked %v, want %v", got, tt.repaired)
			}
		})
	}
}

// TestConvertWaitsForASlot: with MaxConcurrent conversions at work, one
// more waits for a slot until its deadline, then answers 503 having
// written nothing and gives its key back.
func TestConvertWaitsForASlot(t *testing.T) {
	p := newPricer(eurUSD, nil)
	p.wait = make(chan struct{})
	l := &ledger{clock: t0}
	svc := newService(p, l, t0, 1)
	first := make(chan error, 1)
	go func() {
		_, _, err := svc.Convert(context.Background(), conversions.Request{Amount: "100.00", From: "EUR", To: "USD", IdempotencyKey: "first", APIKeyID: keyA})
		first <- err
	}()
	for deadline := time.Now().Add(2 * time.Second); len(p.lookups()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first conversion never priced")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, _, err := svc.Convert(ctx, conversions.Request{Amount: "100.00", From: "EUR", To: "USD", IdempotencyKey: "second", APIKeyID: keyA})
	if !errors.Is(err, fx.ErrDatabaseUnavailable) || r.IdempotencyKey != "second" {
		t.Errorf("second conversion: %v with key %q; want %v with its key", err, r.IdempotencyKey, fx.ErrDatabaseUnavailable)
	}
	if n := len(p.lookups()); n != 1 {
		t.Errorf("%d rate lookups, want the first conversion's alone", n)
	}
	close(p.wait)
	if err := <-first; err != nil {
		t.Fatalf("first conversion: %v", err)
	}
	if w := l.written(); len(w) != 1 || w[0].IdempotencyKey != "first" {
		t.Errorf("written %v, want the first conversion alone", w)
	}
}

// TestGet: a client reads its own receipts; another's, or an id that is
// none, is not found.
func TestGet(t *testing.T) {
	mine := fx.Receipt{ID: "0196f0a4-0000-7000-8000-000000000003", APIKeyID: keyA, IdempotencyKey: "k"}
	tests := []struct {
		name   string
		key    string
		id     string
		down   bool
		err    error
		lookup bool
	}{
		{name: "one's own receipt", key: keyA, id: mine.ID, lookup: true},
		{name: "another client's receipt", key: keyB, id: mine.ID, err: fx.ErrConversionNotFound, lookup: true},
		{name: "an id that is none is not looked for", key: keyA, id: "urn:uuid:" + mine.ID, err: fx.ErrConversionNotFound},
		{name: "the database down", key: keyA, id: mine.ID, down: true, err: fx.ErrDatabaseUnavailable, lookup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &ledger{receipts: []fx.Receipt{mine}}
			if tt.down {
				l.down = errors.New("pool closed")
			}
			r, err := newService(newPricer(eurUSD, nil), l, t0, 0).Get(context.Background(), tt.key, tt.id)
			if !errors.Is(err, tt.err) || tt.err == nil && (err != nil || r.ID != mine.ID) {
				t.Fatalf("Get = %q, %v; want %v", r.ID, err, tt.err)
			}
			if looked := len(l.called()) > 0; looked != tt.lookup {
				t.Errorf("store calls %v, want a lookup %t", l.called(), tt.lookup)
			}
		})
	}
}

// TestValidate: which field a bad request is refused for, checked in the
// order from, to, amount, and the exact amount a good one converts.
func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		amount   string
		from, to string
		want     string // the amount, exactly
		wantFrom string
		err      error
		field    string
	}{
		{name: "an amount in minor units", amount: "100.50", from: "USD", to: "EUR", want: "100.50", wantFrom: "USD"},
		{name: "trailing zeros past the minor units", amount: "100.500", from: "USD", to: "EUR", want: "100.500", wantFrom: "USD"},
		{name: "lower-case codes", amount: "1", from: "usd", to: "eur", want: "1", wantFrom: "USD"},
		{name: "leading zeros", amount: "0000000000000000000001", from: "USD", to: "EUR", want: "1", wantFrom: "USD"},
		{name: "eighteen integer digits", amount: "999999999999999999.99", from: "USD", to: "EUR", want: "999999999999999999.99", wantFrom: "USD"},
		{name: "a currency without decimals", amount: "1530", from: "JPY", to: "USD", want: "1530", wantFrom: "JPY"},
		{name: "nineteen integer digits", amount: "1000000000000000000", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "more decimals than the currency's", amount: "100.505", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "decimals of a currency without", amount: "1530.5", from: "JPY", to: "USD", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "empty", amount: "", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "zero", amount: "0.00", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "negative", amount: "-5", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "exponent", amount: "1e3", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "no integer part", amount: ".5", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "no decimals after the dot", amount: "5.", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "a thousands separator", amount: "1,000", from: "USD", to: "EUR", err: fx.ErrInvalidAmount, field: "amount"},
		{name: "an unknown code", amount: "1", from: "ZZZ", to: "EUR", err: fx.ErrInvalidCurrency, field: "from_currency"},
		{name: "not three letters", amount: "1", from: "USD", to: "EURO", err: fx.ErrInvalidCurrency, field: "to_currency"},
		{name: "a withdrawn source currency", amount: "1", from: "HRK", to: "EUR", err: fx.ErrInvalidCurrency, field: "from_currency"},
		{name: "a withdrawn target currency", amount: "1", from: "EUR", to: "BGN", err: fx.ErrInvalidCurrency, field: "to_currency"},
		{name: "a source without minor units", amount: "1", from: "XAU", to: "USD", err: fx.ErrInvalidCurrency, field: "from_currency"},
		{name: "a target without minor units", amount: "1", from: "USD", to: "XDR", err: fx.ErrInvalidCurrency, field: "to_currency"},
		{name: "a currency into itself", amount: "1", from: "USD", to: "usd", err: fx.ErrInvalidCurrency, field: "to_currency"},
		{name: "the source is checked first", amount: "x", from: "HRK", to: "BGN", err: fx.ErrInvalidCurrency, field: "from_currency"},
		{name: "the target before the amount", amount: "x", from: "USD", to: "BGN", err: fx.ErrInvalidCurrency, field: "to_currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amount, from, _, err := conversions.Validate(conversions.Request{Amount: tt.amount, From: tt.from, To: tt.to})
			if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
				t.Fatalf("Validate(%q %s→%s) = %v; want %v", tt.amount, tt.from, tt.to, err, tt.err)
			}
			checkField(t, err, tt.field)
			if tt.err == nil && (fx.Exact(amount) != tt.want || from.Code != tt.wantFrom) {
				t.Errorf("Validate(%q %s) = %s %s, want %s %s", tt.amount, tt.from, fx.Exact(amount), from.Code, tt.want, tt.wantFrom)
			}
		})
	}
}
