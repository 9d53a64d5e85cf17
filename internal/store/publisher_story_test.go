package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/gate"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestPublisherStory: the publisher page's reads say, per publication and
// per point of a series, what the gate made of each row: released, held,
// released after a hold, or rejected.
func TestPublisherStory(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	day := func(d int) time.Time { return time.Date(2026, 3, d, 15, 0, 0, 0, time.UTC) }
	gated := func(at time.Time) store.Origin {
		return store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: at, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	}
	// Day 2 is a first publication; day 3's JPY is held and rejected; day
	// 4's JPY is held and released; day 5's JPY is held and waits.
	for _, d := range []struct {
		day int
		jpy string
	}{{2, "149.00"}, {3, "1.49"}, {4, "190.00"}, {5, "300.00"}} {
		res, err := st.Rates.InsertRates(ctx, sampleSet(day(d.day), map[string]string{"JPY": d.jpy, "USD": "1.0540"}), gated(day(d.day)))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range res.Quarantined {
			switch d.day {
			case 3:
				if _, err := st.Quality.DecideQuarantine(ctx, q.ID, false, "a misplaced decimal point", "ops", gate.Cascade); err != nil {
					t.Fatal(err)
				}
			case 4:
				if _, err := st.Quality.DecideQuarantine(ctx, q.ID, true, "confirmed on the publisher's page", "ops", gate.Cascade); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	pubs, err := st.Rates.PublicationStates(ctx, "ecb", day(1), day(6))
	if err != nil {
		t.Fatal(err)
	}
	type pub struct{ rows, held, released, rejected int }
	want := []pub{{2, 0, 0, 0}, {2, 0, 0, 1}, {2, 0, 1, 0}, {2, 1, 0, 0}}
	if len(pubs) != len(want) {
		t.Fatalf("publications = %+v, want %d", pubs, len(want))
	}
	for i, p := range pubs {
		if got := (pub{p.Rows, p.Held, p.Released, p.Rejected}); got != want[i] || !p.AsOf.Equal(day(i+2)) {
			t.Errorf("publication %d = %+v, want %+v at %s", i, p, want[i], day(i+2))
		}
	}
	pts, err := st.Rates.Series(ctx, "ecb", "EUR", "JPY", day(1), day(6))
	if err != nil {
		t.Fatal(err)
	}
	var states, values []string
	for _, p := range pts {
		states = append(states, p.State)
		values = append(values, p.Value.String())
	}
	if got, want := states, []string{"released", "rejected", "released", "held"}; !slices.Equal(got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
	if got, want := values, []string{"149", "1.49", "190", "300"}; !slices.Equal(got, want) {
		t.Errorf("values = %v, want %v", got, want)
	}
	pairs, err := st.Rates.Pairs(ctx, "ecb", day(1), day(6))
	if err != nil || len(pairs) != 2 || pairs[0].Rows != 4 {
		t.Fatalf("pairs = %+v, %v; want EUR/JPY and EUR/USD with 4 rows each", pairs, err)
	}
}
