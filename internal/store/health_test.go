package store_test

import (
	"context"
	"testing"
	"time"

	"ces/internal/policy"
	"ces/internal/store"
	"ces/internal/testenv"
)

func TestPublisherHealthChecks(t *testing.T) {
	ctx := context.Background()
	st := store.New(testenv.DB(t))
	t1 := time.Date(2017, 2, 8, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	newest := time.Date(2017, 2, 3, 15, 0, 0, 0, time.UTC)
	check := func(p string, at time.Time, s policy.HealthStatus, missed int) store.PublisherCheck {
		return store.PublisherCheck{Provider: p, CheckedAt: at, Status: s, WindowStart: at.AddDate(0, 0, -35), Expected: 25, Missed: missed, NewestAsOf: newest, WorkflowID: "w"}
	}
	for _, batch := range [][]store.PublisherCheck{
		{check("ecb", t1, policy.Late, 2), check("cbn", t1, policy.Healthy, 0)},
		// A retried activity records nothing twice.
		{check("ecb", t1, policy.Late, 2), check("cbn", t1, policy.Healthy, 0)},
		{check("ecb", t2, policy.Silent, 5), {Provider: "sbp", CheckedAt: t2, Status: policy.Silent, WindowStart: t1, Expected: 11, Missed: 11, WorkflowID: "w"}},
	} {
		if err := st.Health.RecordChecks(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := st.DB().NewSelect().TableExpr("publisher_health").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 4 {
		t.Fatalf("%d rows (%v), want 4", n, err)
	}
	got, err := st.Health.LatestChecks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]policy.HealthStatus{"cbn": policy.Healthy, "ecb": policy.Silent, "sbp": policy.Silent}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for _, c := range got {
		if want[c.Provider] != c.Status {
			t.Fatalf("%s: %s, want %s", c.Provider, c.Status, want[c.Provider])
		}
		if c.Provider == "ecb" && (!c.CheckedAt.Equal(t2) || c.Missed != 5 || !c.NewestAsOf.Equal(newest)) {
			t.Fatalf("ecb: %+v", c)
		}
		if c.Provider == "sbp" && !c.NewestAsOf.IsZero() {
			t.Fatalf("sbp: newest %s, want none", c.NewestAsOf)
		}
	}
}
