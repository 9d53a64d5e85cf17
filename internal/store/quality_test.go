package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/store"
	"ces/internal/testenv"
)

func TestQualityGateQuarantinesAndReleases(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	d1 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: d2, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	if _, err := st.Rates.InsertRates(ctx, sampleSet(d1, map[string]string{"JPY": "149.00", "USD": "1.0540"}), gated); err != nil {
		t.Fatal(err)
	}
	// JPY arrives as 1.49 instead of 149: a 99% move.
	res, err := st.Rates.InsertRates(ctx, sampleSet(d2, map[string]string{"JPY": "1.49", "USD": "1.0565"}), gated)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 2 || len(res.Quarantined) != 1 {
		t.Fatalf("insert = %+v, want 2 rows and 1 quarantine", res)
	}
	// A retry of the same insert (its first attempt committed) still
	// reports what that attempt held.
	again, err := st.Rates.InsertRates(ctx, sampleSet(d2, map[string]string{"JPY": "1.49", "USD": "1.0565"}), gated)
	if err != nil || again.Inserted != 0 || len(again.Quarantined) != 1 || again.Quarantined[0].ID != res.Quarantined[0].ID {
		t.Fatalf("retry = %+v, %v; want nothing inserted and the same quarantine reported", again, err)
	}
	q := res.Quarantined[0]
	if q.Rate.Quote != "JPY" || q.Against != "previous" || q.Change.String() != "0.99" || q.Reference.Value.String() != "149" {
		t.Fatalf("quarantine = %+v", q)
	}
	latest := func() map[string]string {
		t.Helper()
		rs, err := st.Rates.LatestServable(ctx, nil, nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rs {
			out[r.Quote] = fx.Exact(r.Value)
		}
		return out
	}
	if got := latest(); got["JPY"] != "149.00" || got["USD"] != "1.0565" {
		t.Fatalf("latest while held = %v, want JPY still 149.00", got)
	}
	hist, err := st.Rates.History(ctx, "ecb", "EUR", "JPY", d1, d2.Add(time.Hour))
	if err != nil || len(hist) != 1 {
		t.Fatalf("history while held = %v, %v; want only the released day", hist, err)
	}
	if n, err := st.Quality.CountHeld(ctx); err != nil || n != 1 {
		t.Fatalf("held = %d, %v", n, err)
	}
	if w, err := st.Quality.Waiting(ctx); err != nil || w.Held != 1 || w.OldestHeld.IsZero() || time.Since(w.OldestHeld) > time.Minute {
		t.Fatalf("waiting while held = %+v, %v; want 1 held since a moment ago", w, err)
	}

	tests := []struct {
		name    string
		id      int64
		release bool
		reason  string
		want    error
	}{
		{"no reason", q.ID, true, "  ", store.ErrReasonRequired},
		{"unknown id", q.ID + 1000, true, "checked", store.ErrQuarantineNotFound},
		{"release", q.ID, true, "confirmed with the ECB's page", nil},
		{"second decision", q.ID, false, "changed my mind", store.ErrAlreadyDecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := st.Quality.DecideQuarantine(ctx, tt.id, tt.release, tt.reason, "ops", gate.Cascade)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecideQuarantine = %+v, %v; want %v", d, err, tt.want)
			}
		})
	}
	if got := latest(); got["JPY"] != "1.49" {
		t.Fatalf("latest after release = %v, want JPY 1.49", got)
	}
	if n, err := st.Quality.CountHeld(ctx); err != nil || n != 0 {
		t.Fatalf("held after release = %d, %v", n, err)
	}
	if w, err := st.Quality.Waiting(ctx); err != nil || w.Held != 0 || !w.OldestHeld.IsZero() {
		t.Fatalf("waiting after release = %+v, %v; want nothing held", w, err)
	}
	// Decisions are insert-only like the rest of the audit trail.
	if _, err := st.DB().ExecContext(ctx, "UPDATE rate_quarantine_decisions SET decision = 'rejected'"); err == nil {
		t.Fatal("a decision was rewritten")
	}
}

func TestQualityGateComparesProviders(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: at, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	oxr := fx.RateSet{Provider: "openexchangerates", Base: "USD", AsOf: at.Add(-time.Hour), PayloadHash: sampleSet(at, nil).PayloadHash,
		Rates: []fx.QuotedRate{{Quote: "EUR", Value: decimal.RequireFromString("0.95")}}}
	if _, err := st.Rates.InsertRates(ctx, oxr, gated); err != nil {
		t.Fatal(err)
	}
	// A compiler's first EUR→USD: no previous rate, but OXR's USD→EUR
	// 0.95 says about 1.05, so 2.1 is held and 1.06 passes.
	imf := sampleSet(at, map[string]string{"USD": "2.1", "GBP": "0.85"})
	imf.Provider = "imf"
	res, err := st.Rates.InsertRates(ctx, imf, gated)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Quarantined) != 1 || res.Quarantined[0].Against != "provider" || res.Quarantined[0].Reference.Provider != "openexchangerates" {
		t.Fatalf("quarantined = %+v, want USD against openexchangerates", res.Quarantined)
	}
	// The ECB issues the euro: others' rates never hold its EUR→USD.
	if res, err := st.Rates.InsertRates(ctx, sampleSet(at, map[string]string{"USD": "2.1"}), gated); err != nil || len(res.Quarantined) != 0 {
		t.Fatalf("the ECB's EUR/USD: quarantined %+v, %v; want none", res.Quarantined, err)
	}
}

func TestSuspensions(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	if err := st.Quality.SetSuspension(ctx, "USD", "NGN", true, "", "ops"); !errors.Is(err, store.ErrReasonRequired) {
		t.Fatalf("suspension without reason: %v", err)
	}
	steps := []struct {
		a, b      string
		suspended bool
		want      int
	}{
		{"USD", "NGN", true, 1},
		{"NGN", "USD", true, 1}, // the same pair the other way round
		{"EUR", "SEK", true, 2},
		{"NGN", "USD", false, 1},
	}
	for _, s := range steps {
		if err := st.Quality.SetSuspension(ctx, s.a, s.b, s.suspended, "investigating", "ops"); err != nil {
			t.Fatal(err)
		}
		got, err := st.Quality.Suspensions(ctx)
		if err != nil || len(got) != s.want {
			t.Fatalf("after %s/%s %v: %+v, %v; want %d", s.a, s.b, s.suspended, got, err, s.want)
		}
		if w, err := st.Quality.Waiting(ctx); err != nil || w.Suspended != s.want {
			t.Fatalf("after %s/%s %v: waiting %+v, %v; want %d suspended", s.a, s.b, s.suspended, w, err, s.want)
		}
	}
	if got, _ := st.Quality.Suspensions(ctx); got[0].Base != "EUR" || got[0].Quote != "SEK" {
		t.Fatalf("suspensions = %+v, want EUR/SEK only", got)
	}
}

// TestReleaseRegatesLaterDays: after a real devaluation (the naira lost
// about 40% in June 2023) every later day was compared with the rate
// before it and held; releasing the first re-checks the later ones
// against it, releasing those within the limit up to the first that is
// not.
func TestReleaseRegatesLaterDays(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	day := time.Date(2023, 6, 13, 16, 0, 0, 0, time.UTC)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: day, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	var held []store.Quarantine
	for i, v := range []string{"463.38", "664.04", "667.93", "1500.00", "670.00"} {
		set := fx.RateSet{Provider: "cbn", Base: "USD", AsOf: day.AddDate(0, 0, i), PayloadHash: sampleSet(day, nil).PayloadHash,
			Rates: []fx.QuotedRate{{Quote: "NGN", Value: decimal.RequireFromString(v)}}}
		res, err := st.Rates.InsertRates(ctx, set, gated)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, res.Quarantined...)
	}
	// 664.04, 667.93, 1500.00 and 670.00 all moved > 25% from 463.38.
	if len(held) != 4 {
		t.Fatalf("held %d days, want 4", len(held))
	}
	q, err := st.Quality.DecideQuarantine(ctx, held[0].ID, true, "the CBN unified the exchange windows", "ops", gate.Cascade)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Cascaded) != 1 || q.Cascaded[0] != held[1].ID {
		t.Fatalf("cascaded %v, want only the next day (%d)", q.Cascaded, held[1].ID)
	}
	want := map[int64]string{held[1].ID: store.QuarantineReleased, held[2].ID: store.QuarantineHeld, held[3].ID: store.QuarantineHeld}
	for id, status := range want {
		got, err := st.Quality.Quarantine(ctx, id)
		if err != nil || got.Status != status {
			t.Fatalf("quarantine %d: %+v, %v; want %s", id, got, err, status)
		}
		if status == store.QuarantineReleased && (got.DecidedBy != store.GateUser || !strings.Contains(got.Reason, "the CBN unified")) {
			t.Fatalf("cascaded decision = %s: %q", got.DecidedBy, got.Reason)
		}
	}
	rs, err := st.Rates.LatestServable(ctx, []string{"cbn"}, nil, time.Time{})
	if err != nil || len(rs) != 1 || fx.Exact(rs[0].Value) != "667.93" {
		t.Fatalf("served = %v, %v; want 667.93 (1500.00 and what follows it stay held)", rs, err)
	}
}
