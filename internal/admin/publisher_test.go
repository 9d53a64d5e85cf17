package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/gate"
	"ces/internal/policy"
	"ces/internal/store"
)

// TestPublisherPage opens a publisher's page over four publications, one
// with a rate the gate holds: the timeline counts the days and marks the
// held one, and the chart of the held pair draws the held row apart from
// the line, linked to its row.
func TestPublisherPage(t *testing.T) {
	ctx := context.Background()
	c := newConsole(t)
	ck, _ := c.session(t)
	gated := store.Origin{WorkflowID: "w", RunID: "r", Judge: gate.Judge(decimal.RequireFromString("0.25"))}
	var heldID int64
	for i, jpy := range []string{"149.00", "150.10", "300.00", "151.20"} { // the third doubles
		asOf := time.Date(2026, 3, 2+i, 15, 0, 0, 0, time.UTC) // Monday to Thursday
		gated.FetchedAt = asOf
		set := fx.RateSet{Provider: "ecb", Base: "EUR", AsOf: asOf, PayloadHash: strings.Repeat("a", 64), Rates: []fx.QuotedRate{
			{Quote: "JPY", Value: decimal.RequireFromString(jpy)}, {Quote: "USD", Value: decimal.RequireFromString("1.0540")},
		}}
		res, err := c.st.Rates.InsertRates(ctx, set, gated)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range res.Quarantined {
			heldID = q.Rate.ID
		}
	}
	if heldID == 0 {
		t.Fatal("the gate held nothing")
	}
	page := c.do(t, "GET", "/admin/publishers/ecb?pair=EUR/JPY", nil, ck)
	if page.status != 200 {
		t.Fatalf("status %d:\n%s", page.status, page.body)
	}
	for _, want := range []string{
		"ecb: European Central Bank",
		"4 days with a publication, 1 of them with rows held for review; ",
		"The newest publication is older than four weeks, so the timeline ends with it.",
		`<td class="day missed" title="Fri 2026-02-27: due, nothing published">`,
		`<td class="day none" title="Sat 2026-02-28: nothing published">`,
		"not checked yet",
		`<td class="day held" title="Wed 2026-03-04: 2 rows at 15:00Z; 1 held, awaiting a decision">`,
		`<option value="EUR/JPY" selected>`,
		`<a href="/admin/rates/` + decimal.NewFromInt(heldID).String() + `"><circle class="held"`,
		"held 300.00, 2026-03-04T15:00:00Z",
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page.body, `class="released"`); n != 3 {
		t.Errorf("%d released points, want 3", n)
	}
	// Once the publisher-health schedule has judged it, the page says how.
	checked := time.Now().UTC().Truncate(time.Second)
	if err := c.st.Health.RecordChecks(ctx, []store.PublisherCheck{{Provider: "ecb", CheckedAt: checked, Status: policy.Late,
		WindowStart: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Expected: 20, Missed: 3, NewestAsOf: time.Date(2026, 3, 5, 15, 0, 0, 0, time.UTC), WorkflowID: "w"}}); err != nil {
		t.Fatal(err)
	}
	page = c.do(t, "GET", "/admin/publishers/ecb", nil, ck)
	if want := `<strong class="late">late</strong>: 3 of 20 publications due since 2026-02-01 missed; checked ` + checked.Format(time.RFC3339); !strings.Contains(page.body, want) {
		t.Errorf("the page lacks %q", want)
	}
	if page := c.do(t, "GET", "/admin/publishers/nosuch", nil, ck); page.status != 404 {
		t.Errorf("an unknown publisher answers %d, want 404", page.status)
	}
	dash := c.do(t, "GET", "/admin/", nil, ck)
	if !strings.Contains(dash.body, `<a href="/admin/publishers/ecb">ecb</a>: European Central Bank`) {
		t.Error("the dashboard does not link the publisher's page")
	}
}
