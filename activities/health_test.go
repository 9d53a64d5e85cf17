package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/testsuite"

	"ces/activities"
	"ces/internal/flow"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/provider"
	"ces/internal/store"
	"ces/internal/testenv"
)

// gauges records what the activity tells the metrics.
type gauges map[string]policy.Health

func (g gauges) PublisherHealth(provider string, h policy.Health) { g[provider] = h }

// TestCheckPublisherHealthRecordsOnce: a check judges each configured
// publisher the catalogue knows (the demo's file provider has no cadence),
// records one row each, and a retried attempt of the same instant records
// nothing more.
func TestCheckPublisherHealthRecordsOnce(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	// The ECB published on Friday 3 February 2017 and not since.
	friday := time.Date(2017, 2, 3, 15, 0, 0, 0, time.UTC)
	if _, err := st.Rates.InsertSets(ctx, []fx.RateSet{sampleHealthSet(friday)}, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: friday}); err != nil {
		t.Fatal(err)
	}
	g := gauges{}
	a := &activities.Activities{
		Providers:    map[string]provider.Source{"ecb": nil, "file": nil},
		Publications: st.Rates, Health: st.Health, HealthMetrics: g,
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a.CheckPublisherHealth)
	at := time.Date(2017, 2, 8, 12, 0, 0, 0, time.UTC)
	for range 2 {
		v, err := env.ExecuteActivity(a.CheckPublisherHealth, flow.CheckPublisherHealthInput{At: at})
		if err != nil {
			t.Fatal(err)
		}
		var res flow.CheckPublisherHealthResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		if res.Checked != 1 || len(res.Late) != 1 || res.Late[0] != "ecb" {
			t.Fatalf("result %+v, want the ecb late", res)
		}
	}
	var n int
	if err := st.DB().NewSelect().TableExpr("publisher_health").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("%d checks recorded (%v), want 1", n, err)
	}
	// Only Friday's publication is stored: every other due day is missed.
	if h := g["ecb"]; h.Status != policy.Late || h.Missed != h.Expected-1 || h.NewestAge != at.Sub(friday) {
		t.Fatalf("gauges told %+v", h)
	}
	// Without its stores the check refuses at once rather than retrying.
	env.RegisterActivity((&activities.Activities{}).CheckPublisherHealth)
	if _, err := env.ExecuteActivity((&activities.Activities{}).CheckPublisherHealth, flow.CheckPublisherHealthInput{At: at}); err == nil {
		t.Fatal("a worker without the health stores ran the check")
	}
}

func sampleHealthSet(asOf time.Time) fx.RateSet {
	return fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: asOf, PayloadHash: strings.Repeat("a", 64),
		Rates: []fx.QuotedRate{{Quote: "USD", Value: decimal.RequireFromString("1.0746")}}}
}
