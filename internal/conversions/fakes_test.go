package conversions_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"ces/internal/fx"
	"ces/internal/rates"
)

// pricer is the rate service as conversions use it (*rates.Service): it
// answers every lookup with the result it was given and records the
// lookups, and sends each repair asked on repaired (repairs run in the
// background). While wait is open, lookups wait for it to close.
type pricer struct {
	mu       sync.Mutex
	result   rates.Result
	err      error
	asked    []string
	wait     chan struct{}
	repaired chan string
}

func newPricer(result rates.Result, err error) *pricer {
	return &pricer{result: result, err: err, repaired: make(chan string, 16)}
}

func (p *pricer) Latest(_ context.Context, from, to, provider string) (rates.Result, error) {
	p.mu.Lock()
	p.asked = append(p.asked, from+"/"+to+" "+provider)
	wait, result, err := p.wait, p.result, p.err
	p.mu.Unlock()
	if wait != nil {
		<-wait
	}
	return result, err
}

func (p *pricer) Repair(_ context.Context, provider string) error {
	p.repaired <- provider
	return nil
}

func (p *pricer) lookups() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.asked)
}

// ledger is PostgreSQL's receipts and quotes as conversions use them
// (*store.Conversions), with the checks a write makes in its transaction,
// in the store's order: a revoked key (fx.ErrUnauthorized), the legs
// against their rows (refuse: what that check answers, such as
// fx.ErrRateMismatch or fx.ErrRateUnderReview), a quote's expiry by the
// database's clock (fx.ErrQuoteExpired) and its single use
// (fx.ErrQuoteUsed). down fails every call; fail fails a write without
// writing, lost writes and then fails (the answer to a COMMIT lost).
type ledger struct {
	mu       sync.Mutex
	receipts []fx.Receipt
	quotes   []fx.LockedQuote
	revoked  map[string]bool
	refuse   error
	clock    time.Time
	down     error
	fail     error
	lost     error
	calls    []string
}

func (l *ledger) call(name string) error {
	l.calls = append(l.calls, name)
	return l.down
}

func (l *ledger) called() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *ledger) written() []fx.Receipt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.receipts)
}

func (l *ledger) storedQuotes() []fx.LockedQuote {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.quotes)
}

// byKey returns the receipt apiKeyID made under idempotency key key.
func (l *ledger) byKey(apiKeyID, key string) (fx.Receipt, bool) {
	for _, r := range l.receipts {
		if r.APIKeyID == apiKeyID && r.IdempotencyKey == key {
			return r, true
		}
	}
	return fx.Receipt{}, false
}

func (l *ledger) write(r fx.Receipt) (fx.Receipt, bool, error) {
	if l.revoked[r.APIKeyID] {
		return fx.Receipt{}, false, fx.ErrUnauthorized
	}
	if l.refuse != nil {
		return fx.Receipt{}, false, l.refuse
	}
	if r.QuoteID != "" {
		i := slices.IndexFunc(l.quotes, func(q fx.LockedQuote) bool { return q.ID == r.QuoteID })
		if i < 0 || !l.clock.Before(l.quotes[i].ExpiresAt) {
			return fx.Receipt{}, false, fmt.Errorf("%w: quote %s expired by the database's clock", fx.ErrQuoteExpired, r.QuoteID)
		}
		if slices.ContainsFunc(l.receipts, func(x fx.Receipt) bool { return x.QuoteID == r.QuoteID }) {
			return fx.Receipt{}, false, fx.ErrQuoteUsed
		}
	}
	if l.fail != nil {
		return fx.Receipt{}, false, l.fail
	}
	l.receipts = append(l.receipts, r)
	if l.lost != nil {
		return fx.Receipt{}, false, l.lost
	}
	return r, false, nil
}

func (l *ledger) RecordConversion(_ context.Context, r fx.Receipt) (fx.Receipt, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("RecordConversion"); err != nil {
		return fx.Receipt{}, false, err
	}
	if prev, ok := l.byKey(r.APIKeyID, r.IdempotencyKey); ok && r.IdempotencyKey != "" {
		if prev.RequestSHA256 != r.RequestSHA256 {
			return fx.Receipt{}, false, fx.ErrIdempotencyKeyReused
		}
		return prev, true, nil
	}
	return l.write(r)
}

func (l *ledger) RecordNewConversion(_ context.Context, r fx.Receipt) (fx.Receipt, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("RecordNewConversion"); err != nil {
		return fx.Receipt{}, false, err
	}
	return l.write(r)
}

func (l *ledger) ConversionByKey(_ context.Context, apiKeyID, key string) (fx.Receipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("ConversionByKey"); err != nil {
		return fx.Receipt{}, err
	}
	if r, ok := l.byKey(apiKeyID, key); ok {
		return r, nil
	}
	return fx.Receipt{}, fx.ErrConversionNotFound
}

func (l *ledger) ClientConversionByID(_ context.Context, apiKeyID, id string) (fx.Receipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("ClientConversionByID"); err != nil {
		return fx.Receipt{}, err
	}
	for _, r := range l.receipts {
		if r.ID == id && r.APIKeyID == apiKeyID {
			return r, nil
		}
	}
	return fx.Receipt{}, fx.ErrConversionNotFound
}

func (l *ledger) InsertQuote(_ context.Context, q fx.LockedQuote) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("InsertQuote"); err != nil {
		return err
	}
	if l.revoked[q.APIKeyID] {
		return fx.ErrUnauthorized
	}
	if l.refuse != nil {
		return l.refuse
	}
	l.quotes = append(l.quotes, q)
	return nil
}

func (l *ledger) ClientQuote(_ context.Context, apiKeyID, id string) (fx.LockedQuote, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.call("ClientQuote"); err != nil {
		return fx.LockedQuote{}, err
	}
	for _, q := range l.quotes {
		if q.ID == id && q.APIKeyID == apiKeyID {
			return q, nil
		}
	}
	return fx.LockedQuote{}, fx.ErrQuoteNotFound
}
