package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/testenv"
)

func rate(id int64, quote, v string, asOf time.Time) fx.Rate {
	return fx.Rate{ID: id, Provider: "ecb", Base: "EUR", Quote: quote, Value: decimal.RequireFromString(v), AsOf: asOf, FetchedAt: asOf.Add(time.Minute)}
}

func TestSetLatestNeverRegresses(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	sub := rdb.Subscribe(ctx, c.UpdatesChannel())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmation
		t.Fatal(err)
	}

	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	steps := []struct {
		name    string
		rates   []fx.Rate
		updated int
		wantUSD string
		wantID  int64
	}{
		{"first write", []fx.Rate{rate(1, "USD", "1.0540", d1), rate(2, "GBP", "0.86", d1)}, 2, "1.0540", 1},
		{"newer replaces", []fx.Rate{rate(3, "USD", "1.0565", d2)}, 1, "1.0565", 3},
		{"older is ignored (backfill)", []fx.Rate{rate(1, "USD", "1.0540", d1)}, 0, "1.0565", 3},
		{"same as_of is a no-op", []fx.Rate{rate(3, "USD", "1.0565", d2)}, 0, "1.0565", 3},
		// PostgreSQL's row is the truth: an entry of the same publication
		// that says otherwise (a poisoned or hand-edited cache) is replaced.
		{"same as_of, another value, is replaced", []fx.Rate{rate(3, "USD", "2.1130", d2)}, 1, "2.1130", 3},
		{"and back", []fx.Rate{rate(3, "USD", "1.0565", d2)}, 1, "1.0565", 3},
		// No publication is dated in the future: such an entry never
		// blocks the row PostgreSQL holds.
		{"a future entry", []fx.Rate{rate(9, "USD", "9.99", time.Now().Add(cache.FutureSkew+time.Hour))}, 1, "", 0},
		{"is replaced by an older row", []fx.Rate{rate(3, "USD", "1.0565", d2)}, 1, "1.0565", 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			n, err := c.SetLatest(ctx, "ecb", s.rates, "")
			if err != nil {
				t.Fatal(err)
			}
			if n != s.updated {
				t.Fatalf("updated = %d, want %d", n, s.updated)
			}
			all, err := c.Latest(ctx, []string{"ecb", "cbn"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := all["cbn"]; ok {
				t.Fatal("cbn should be a miss")
			}
			if s.wantUSD == "" {
				if _, ok := all["ecb"]; ok {
					t.Fatalf("a future-dated entry was read: %v", all["ecb"])
				}
				return
			}
			got := map[string]fx.Rate{}
			for _, r := range all["ecb"] {
				got[r.Quote] = r
			}
			usd := got["USD"]
			if fx.Exact(usd.Value) != s.wantUSD || usd.ID != s.wantID {
				t.Fatalf("USD = %s (id %d), want %s (id %d)", fx.Exact(usd.Value), usd.ID, s.wantUSD, s.wantID)
			}
		})
	}
	all, err := c.Latest(ctx, []string{"ecb"})
	if err != nil || len(all["ecb"]) != 2 || all["ecb"][0].Base != "EUR" {
		t.Fatalf("all = %v, %v", all, err)
	}
	// Six of the eight steps changed something, so six announcements.
	for i := 0; i < 6; i++ {
		msgCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		msg, err := sub.ReceiveMessage(msgCtx)
		cancel()
		if err != nil || msg.Payload != "ecb" {
			t.Fatalf("announcement %d: %v %v", i, msg, err)
		}
	}
}

func TestUnreachableRedisFailsFast(t *testing.T) {
	rdb, err := cache.NewClient(cache.Conn{URL: "redis://127.0.0.1:1/0"}, cache.APITimeouts)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	c := cache.New(rdb, "x:")
	if _, err := c.Latest(context.Background(), []string{"ecb"}); err == nil {
		t.Fatal("want an error from an unreachable Redis")
	}
}

func TestSuspensions(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	if _, _, err := c.Suspensions(ctx); err != cache.ErrMiss {
		t.Fatalf("empty Redis: %v, want ErrMiss", err)
	}
	steps := [][]string{{"NGN/USD"}, {}, {"EUR/SEK", "NGN/USD"}}
	for i, pairs := range steps {
		readAt := time.Date(2026, 5, 21, 9, i, 0, 0, time.UTC)
		if err := c.SetSuspensions(ctx, pairs, readAt); err != nil {
			t.Fatal(err)
		}
		got, at, err := c.Suspensions(ctx)
		if err != nil || len(got) != len(pairs) || !at.Equal(readAt) {
			t.Fatalf("after %v: %v read at %s, %v", pairs, got, at, err)
		}
		for _, p := range pairs {
			if !got[p] {
				t.Fatalf("after %v: %v lacks %s", pairs, got, p)
			}
		}
	}
}

// TestSetLatestCountsWhatTheWriterDid replays what a workflow run's
// retries and other runs send, each case on a provider of its own: a
// series counts when the call replaces it, or when the same writer
// already put exactly that value there (an attempt killed after Redis ran
// its script), and every positive count is announced.
func TestSetLatestCountsWhatTheWriterDid(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	sub := rdb.Subscribe(ctx, c.UpdatesChannel())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmation
		t.Fatal(err)
	}

	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	first := []fx.Rate{rate(1, "USD", "1.0540", d1), rate(2, "GBP", "0.86", d1)}
	newer := []fx.Rate{rate(3, "USD", "1.0565", d2)}
	type call struct {
		writer  string
		rates   []fx.Rate
		updated int
	}
	tests := []struct {
		name   string
		calls  []call
		wantID int64 // of the cached USD rate afterwards
	}{
		{"a retry of the same run reports what its killed attempt wrote",
			[]call{{"run-a", first, 2}, {"run-a", first, 2}}, 1},
		{"a later run finding the same values cached reports nothing",
			[]call{{"run-a", first, 2}, {"run-b", first, 0}}, 1},
		{"a retry after another run moved a series on counts only what it still holds",
			[]call{{"run-a", first, 2}, {"run-b", newer, 1}, {"run-a", first, 1}}, 3},
		{"an older value never replaces a newer one, whoever writes it",
			[]call{{"run-a", newer, 1}, {"run-a", first[:1], 0}, {"run-b", first[:1], 0}, {"", first[:1], 0}}, 3},
		{"without a writer only replacements count",
			[]call{{"", first, 2}, {"", first, 0}, {"", newer, 1}}, 3},
		{"a run does not claim what a writer without a name wrote",
			[]call{{"", first, 2}, {"run-a", first, 0}}, 1},
		{"a writer without a name does not claim a run's write",
			[]call{{"run-a", first, 2}, {"", first, 0}}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			provider := fmt.Sprintf("p%d", i)
			announced := 0
			for j, cl := range tt.calls {
				n, err := c.SetLatest(ctx, provider, cl.rates, cl.writer)
				if err != nil {
					t.Fatal(err)
				}
				if n != cl.updated {
					t.Fatalf("call %d (writer %q): updated = %d, want %d", j+1, cl.writer, n, cl.updated)
				}
				if n > 0 {
					announced++
				}
			}
			all, err := c.Latest(ctx, []string{provider})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range all[provider] {
				if r.Quote == "USD" && r.ID != tt.wantID {
					t.Fatalf("cached USD is id %d, want %d", r.ID, tt.wantID)
				}
			}
			// Every call that counted something announced the provider;
			// the end marker bounds the wait for them.
			end := "end-" + provider
			if err := rdb.Publish(ctx, c.UpdatesChannel(), end).Err(); err != nil {
				t.Fatal(err)
			}
			got := 0
			for {
				msgCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
				msg, err := sub.ReceiveMessage(msgCtx)
				cancel()
				if err != nil {
					t.Fatalf("waiting for announcements: %v", err)
				}
				if msg.Payload == end {
					break
				}
				if msg.Payload == provider {
					got++
				}
			}
			if got != announced {
				t.Fatalf("%d announcements, want %d", got, announced)
			}
		})
	}
}

// TestHeldSeriesRoundTrip: the held series and their stamp come back as
// written; an empty set is cached too ("none" differs from "not cached").
func TestHeldSeriesRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	if _, _, err := c.Held(ctx); err != cache.ErrMiss {
		t.Fatalf("before any write: %v, want a miss", err)
	}
	readAt := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	held := map[policy.Series]time.Time{
		{Provider: "ecb", Base: "EUR", Quote: "JPY"}: time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC),
		{Provider: "cbn", Base: "USD", Quote: "NGN"}: time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC),
	}
	for _, want := range []map[policy.Series]time.Time{held, {}} {
		if err := c.SetHeld(ctx, want, readAt); err != nil {
			t.Fatal(err)
		}
		got, at, err := c.Held(ctx)
		if err != nil || !at.Equal(readAt) || len(got) != len(want) {
			t.Fatalf("Held() = %v, %s, %v; want %v at %s", got, at, err, want, readAt)
		}
		for s, asOf := range want {
			if !got[s].Equal(asOf) {
				t.Fatalf("%v held as of %s, want %s", s, got[s], asOf)
			}
		}
	}
}

// TestReplaceLatestRepairs: what SetLatest never replaces (an entry newer
// than any row, a series PostgreSQL does not hold) the repair does, and a
// copy read before the one cached is not written over it.
func TestReplaceLatestRepairs(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	c := cache.New(rdb, prefix)
	d := time.Date(2017, 3, 3, 15, 0, 0, 0, time.UTC)
	if _, err := c.SetLatest(ctx, "ecb", []fx.Rate{rate(7, "USD", "9.99", d.Add(24*time.Hour)), rate(8, "XXX", "1", d)}, ""); err != nil {
		t.Fatal(err)
	}
	row := rate(3, "USD", "1.0565", d)
	if n, err := c.SetLatest(ctx, "ecb", []fx.Rate{row}, ""); err != nil || n != 0 {
		t.Fatalf("SetLatest replaced a newer entry: %d %v", n, err)
	}
	if n, err := c.ReplaceLatest(ctx, "ecb", []fx.Rate{row}); err != nil || n != 2 {
		t.Fatalf("ReplaceLatest = %d, %v; want 2 changes", n, err)
	}
	all, err := c.Latest(ctx, []string{"ecb"})
	if err != nil || len(all["ecb"]) != 1 || all["ecb"][0].ID != 3 || fx.Exact(all["ecb"][0].Value) != "1.0565" {
		t.Fatalf("after the repair: %v, %v", all, err)
	}
	if n, err := c.ReplaceLatest(ctx, "ecb", []fx.Rate{row}); err != nil || n != 0 {
		t.Fatalf("a second repair changed %d, %v", n, err)
	}

	newer, older := time.Now(), time.Now().Add(-time.Minute)
	if err := c.SetSuspensions(ctx, []string{"EUR/USD"}, newer); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSuspensions(ctx, nil, older); err != nil {
		t.Fatal(err)
	}
	if got, _, err := c.Suspensions(ctx); err != nil || !got["EUR/USD"] {
		t.Fatalf("an older copy replaced a newer one: %v %v", got, err)
	}
}
