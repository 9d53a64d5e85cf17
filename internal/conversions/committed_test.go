package conversions

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/cache"
	"ces/internal/provider/ecb"
	"ces/internal/rates"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestCommittedAfterTheDeadline: a COMMIT may outlive the request's
// deadline (store.commitContext); the check that the conversion committed
// must still find its row then, or a committed conversion is answered 503.
func TestCommittedAfterTheDeadline(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	rdb, prefix := testenv.Redis(t)
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ecb", "eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sets, err := ecb.Parse(ecb.Name, payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Rates.InsertRates(ctx, sets[0], store.Origin{WorkflowID: "test", RunID: "run", FetchedAt: sets[0].AsOf}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return sets[0].AsOf.Add(time.Hour) }
	svc := New(rates.New(st.Rates, st.Quality, cache.New(rdb, prefix), rates.Options{Providers: []string{ecb.Name}, Now: now}), st.Conversions,
		Options{Margin: decimal.Zero, MaxRateAge: func(string) time.Duration { return 97 * time.Hour }, Now: now})
	r, _, err := svc.Convert(ctx, Request{Amount: "100.00", From: "USD", To: "EUR", IdempotencyKey: "after-the-deadline"})
	if err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if found, ok := svc.committed(expired, r); !ok || found.ID != r.ID {
		t.Fatalf("committed() on a passed deadline = %v, %v; want the row %s", found.ID, ok, r.ID)
	}
}
