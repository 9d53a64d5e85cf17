package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/testenv"
)

// usdSet is one publisher's USD→code rate at asOf.
func usdSet(provider, code, value string, asOf time.Time) fx.RateSet {
	return fx.RateSet{Provider: provider, Base: "USD", AsOf: asOf, PayloadHash: fmt.Sprintf("%064x", len(provider)+len(value)),
		Rates: []fx.QuotedRate{{Quote: code, Value: decimal.RequireFromString(value)}}}
}

// TestQualityGateConsensus stores four compilers' USD/KES of one day,
// then an outlier (held by their median), then the CBK's devaluation
// (priced; the compilers' rows stored before it are held against it in
// its transaction), then a compiler arriving after the issuer (held
// against it).
func TestQualityGateConsensus(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	at := time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC)
	gated := store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: at, Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	insert := func(t *testing.T, set fx.RateSet) store.InsertResult {
		t.Helper()
		res, err := st.Rates.InsertRates(ctx, set, gated)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	compilers := map[string]int64{}
	for i, p := range []string{"imf", "bdi", "oxr", "wise"} {
		res := insert(t, usdSet(p, "KES", []string{"129.0", "129.1", "128.9", "129.2"}[i], at.Add(time.Duration(i)*time.Hour)))
		if len(res.Quarantined) != 0 {
			t.Fatalf("%s held: %+v", p, res.Quarantined)
		}
		compilers[p] = res.Stored[0].ID
	}
	var outlier store.Quarantine
	t.Run("an outlier is held by the median of the others of its day", func(t *testing.T) {
		res := insert(t, usdSet("boe", "KES", "154.8", at.Add(5*time.Hour))) // 20%: within RATE_JUMP_LIMIT of every other rate of the pair
		if len(res.Quarantined) != 1 {
			t.Fatalf("quarantined %+v, want the outlier", res.Quarantined)
		}
		q, err := st.Quality.Quarantine(ctx, res.Quarantined[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		outlier = q
		if q.Against != policy.AgainstConsensus || q.Currency != "KES" || q.On != "USD" || q.Publishers != 4 || len(q.Votes) != 4 ||
			q.Reference.ID != 0 || !q.ReferenceValue.Equal(q.Median) || q.MADs.String() != "10" || q.Band.String() != "0.05" {
			t.Fatalf("quarantine %+v: want a consensus hold on KES in USD with 4 votes", q)
		}
		if want := fx.DivideRates(decimal.NewFromInt(1), decimal.RequireFromString("154.8")); !q.Value.Equal(want) {
			t.Errorf("value %s, want %s", q.Value, want)
		}
		for _, v := range q.Votes {
			if len(v.RateIDs) != 1 || v.RateIDs[0] != compilers[v.Provider] {
				t.Errorf("vote %+v does not name %s's row %d", v, v.Provider, compilers[v.Provider])
			}
		}
	})
	var issuerRow int64
	t.Run("the issuer's devaluation is priced and holds the compilers that lag", func(t *testing.T) {
		res := insert(t, usdSet("cbk", "KES", "167.7", at.Add(6*time.Hour)))
		if len(res.Quarantined) != 0 {
			t.Fatalf("the issuer was held: %+v", res.Quarantined)
		}
		issuerRow = res.Stored[0].ID
		if len(res.Lagging) != 4 {
			t.Fatalf("lagging %+v, want the four compilers (the outlier is held already)", res.Lagging)
		}
		for _, q := range res.Lagging {
			if q.Against != policy.AgainstIssuer || q.Reference.ID != issuerRow || q.Rate.ID != compilers[q.Rate.Provider] || q.Currency != "KES" {
				t.Errorf("lagging %+v: want held against the CBK's row %d", q, issuerRow)
			}
		}
		latest, err := st.Rates.LatestServable(ctx, nil, []string{"KES"}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 1 || latest[0].Provider != "cbk" {
			t.Fatalf("priced KES rows %+v, want the CBK's alone", latest)
		}
	})
	t.Run("a compiler after the issuer is held against it, not the median", func(t *testing.T) {
		res := insert(t, usdSet("rba", "KES", "129.05", at.Add(7*time.Hour)))
		if len(res.Quarantined) != 1 || res.Quarantined[0].Against != policy.AgainstIssuer || res.Quarantined[0].Reference.ID != issuerRow {
			t.Fatalf("quarantined %+v, want against the issuer's row %d", res.Quarantined, issuerRow)
		}
		q, err := st.Quality.Quarantine(ctx, res.Quarantined[0].ID)
		if err != nil || len(q.Votes) != 1 || q.Votes[0].Provider != "cbk" || q.JumpLimit.String() != "0.05" {
			t.Fatalf("stored %+v, %v", q, err)
		}
	})
	t.Run("a decision records the figures it was taken on", func(t *testing.T) {
		if _, err := st.Quality.Decide(ctx, store.Decision{ID: outlier.ID, Reason: "a crafted outlier", Username: "ops", Figures: "not what was shown"}, gate.Cascade); err == nil {
			t.Fatal("a decision on figures the quarantine does not hold was taken")
		}
		d, err := st.Quality.Decide(ctx, store.Decision{ID: outlier.ID, Reason: "a crafted outlier", Username: "ops", Figures: outlier.Figures()}, gate.Cascade)
		if err != nil {
			t.Fatal(err)
		}
		q, err := st.Quality.Quarantine(ctx, outlier.ID)
		if err != nil || q.Status != store.QuarantineRejected || q.DecidedOn != outlier.Figures() || d.DecidedOn != q.DecidedOn {
			t.Fatalf("decided %+v, %v; want rejected on %q", q, err, outlier.Figures())
		}
	})
}
