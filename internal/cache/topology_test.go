package cache_test

import (
	"context"
	"testing"
	"time"

	"ces/internal/cache"
	"ces/internal/fx"
	"ces/internal/policy"
	"ces/internal/testenv"
)

// TestRedisTopologies runs every script and announcement of the cache
// against a real Redis Cluster and a Sentinel group: in a cluster a
// script whose keys sit in different hash slots fails (CROSSSLOT), and an
// announcement must reach a subscriber connected to another node.
func TestRedisTopologies(t *testing.T) {
	for _, topo := range testenv.RedisTopologies {
		t.Run(topo.Name, func(t *testing.T) {
			ctx := context.Background()
			rdb, _ := topo.Start(t)
			seen := map[string]bool{}
			// Other processes use their own client, as the API and the worker do.
			for _, prov := range []string{"ecb", "boc", "cbn"} {
				c := cache.New(rdb, "ces:")
				sub := rdb.Subscribe(ctx, c.UpdatesChannel())
				if _, err := sub.Receive(ctx); err != nil {
					t.Fatal(err)
				}
				d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
				rs := []fx.Rate{rate(1, "USD", "1.0540", d1), rate(2, "GBP", "0.86", d1)}
				for i := range rs {
					rs[i].Provider = prov
				}
				if n, err := c.SetLatest(ctx, prov, rs, "run-1"); err != nil || n != 2 {
					t.Fatalf("%s: set latest = %d, %v", prov, n, err)
				}
				// A retry by the same writer counts what it cached (the writer key).
				if n, err := c.SetLatest(ctx, prov, rs, "run-1"); err != nil || n != 2 {
					t.Fatalf("%s: retried set latest = %d, %v", prov, n, err)
				}
				// A cluster relays PUBLISH between nodes over its bus, so the
				// previous provider's last announcement may reach this new
				// subscriber after it subscribed; that one is skipped.
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				for {
					msg, err := sub.ReceiveMessage(rctx)
					if err == nil && msg.Payload != prov && seen[msg.Payload] {
						continue
					}
					if err != nil || msg.Payload != prov {
						cancel()
						t.Fatalf("%s: announcement %v %v", prov, msg, err)
					}
					break
				}
				cancel()
				seen[prov] = true
				sub.Close()
				if n, err := c.ReplaceLatest(ctx, prov, rs[:1]); err != nil || n != 1 {
					t.Fatalf("%s: replace latest = %d, %v", prov, n, err)
				}
			}
			c := cache.New(rdb, "ces:")
			got, err := c.Latest(ctx, []string{"ecb", "boc", "cbn", "none"})
			if err != nil || len(got) != 3 || len(got["boc"]) != 1 || got["boc"][0].Value.String() != "1.054" {
				t.Fatalf("latest = %v, %v", got, err)
			}
			now := time.Now().Truncate(time.Millisecond)
			if err := c.SetSuspensions(ctx, []string{"EUR/USD"}, now); err != nil {
				t.Fatal(err)
			}
			if s, at, err := c.Suspensions(ctx); err != nil || !s["EUR/USD"] || !at.Equal(now) {
				t.Fatalf("suspensions = %v %v %v", s, at, err)
			}
			held := map[policy.Series]time.Time{{Provider: "ecb", Base: "EUR", Quote: "JPY"}: now.UTC()}
			if err := c.SetHeld(ctx, held, now); err != nil {
				t.Fatal(err)
			}
			if h, _, err := c.Held(ctx); err != nil || len(h) != 1 {
				t.Fatalf("held = %v %v", h, err)
			}
		})
	}
}

// TestSentinelFailover: after the primary dies (kill -9) the sentinels
// promote its replica, and the same client finds the new primary, with
// what the old one had replicated, and writes to it.
func TestSentinelFailover(t *testing.T) {
	testenv.RedisURL(t) // an integration test like the others
	ctx := context.Background()
	rs := testenv.NewRedisSentinel(t)
	rdb := rs.Client(t)
	c := cache.New(rdb, "ces:")
	d1 := time.Date(2017, 3, 2, 15, 0, 0, 0, time.UTC)
	if _, err := c.SetLatest(ctx, "ecb", []fx.Rate{rate(1, "USD", "1.0540", d1)}, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Do(ctx, "WAIT", 1, 1000).Int(); err != nil || n != 1 { // replicated before the kill
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	rs.KillPrimary()
	d2 := d1.Add(24 * time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := c.SetLatest(ctx, "ecb", []fx.Rate{rate(2, "USD", "1.0550", d2)}, "")
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write reached a new primary 30 s after the old one died: %d %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	got, err := c.Latest(ctx, []string{"ecb"})
	if err != nil || len(got["ecb"]) != 1 || got["ecb"][0].ID != 2 {
		t.Fatalf("after the failover: %v %v", got, err)
	}
}
