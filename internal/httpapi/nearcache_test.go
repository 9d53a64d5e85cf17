package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"ces/internal/fx"
	"ces/internal/store"
)

// TestNewRateVisibleWithinOneSecond ingests a newer publication while the
// API holds the previous one in memory, and measures how long until a
// lookup returns it: at once with the pub/sub announcement, and within the
// 1 s bound when announcements are lost.
func TestNewRateVisibleWithinOneSecond(t *testing.T) {
	for _, tt := range []struct {
		name    string
		noWatch bool
	}{{"announced", false}, {"announcement lost", true}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, options{nearCache: true, noWatch: tt.noWatch})
			history := ecbHistory(t)
			w.ingest(t, history[1:]...) // everything but the newest day
			rate := func() string {
				var body struct {
					Rate string `json:"rate"`
				}
				r := w.get(t, "/api/v1/rates?from=EUR&to=USD")
				if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				return body.Rate
			}
			if got := rate(); got != "1.0514" { // 2017-03-02, now held in memory
				t.Fatalf("before: %s", got)
			}
			newest := history[0]
			newest.Rates = []fx.QuotedRate{{Quote: "USD", Value: decimal.RequireFromString("1.0565")}}
			if w.queries.n.Load() == 0 {
				t.Fatal("setup ran no SQL; the counter is broken")
			}
			start := time.Now()
			w.ingest(t, newest)
			for rate() != "1.0565" {
				if time.Since(start) > 1500*time.Millisecond {
					t.Fatalf("the new rate was not visible %s after ingestion", time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
			elapsed := time.Since(start)
			if elapsed > time.Second {
				t.Fatalf("the new rate took %s to become visible, more than the 1 s bound", elapsed)
			}
			t.Logf("visible after %s", elapsed)
		})
	}
}

func TestNearCacheServesWithoutRedisOrSQL(t *testing.T) {
	w := newWorld(t, options{nearCache: true})
	w.ingest(t, ecbHistory(t)...)
	w.get(t, "/api/v1/rates?from=EUR&to=USD") // load the copy
	before := w.queries.n.Load()
	for i := 0; i < 50; i++ {
		if r := w.get(t, "/api/v1/rates?from=USD&to=GBP"); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	if n := w.queries.n.Load() - before; n != 0 {
		t.Fatalf("near-cache lookups ran %d SQL statements", n)
	}
}

// blackHole accepts connections and never answers: a frozen Redis
// (SIGSTOP) as its clients see it. It counts the connections.
type blackHole struct {
	ln    net.Listener
	conns atomic.Int64
}

func newBlackHole(t *testing.T) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns.Add(1)
			go func() { io.Copy(io.Discard, c) }() // read, never write
			t.Cleanup(func() { c.Close() })
		}
	}()
	return b
}

// TestFrozenRedisCostsOneWait: with Redis frozen, concurrent lookups
// share one Redis read and then go straight to PostgreSQL, instead of
// queueing one timed-out read each behind a mutex.
func TestFrozenRedisCostsOneWait(t *testing.T) {
	hole := newBlackHole(t)
	w := newWorld(t, options{nearCache: true, noWatch: true, redisURL: "redis://" + hole.ln.Addr().String() + "/0"})
	for _, s := range ecbHistory(t)[:2] {
		if _, err := w.st.Rates.InsertRates(context.Background(), s, store.Origin{WorkflowID: "w", RunID: "r", FetchedAt: s.AsOf}); err != nil {
			t.Fatal(err)
		}
	}
	before := hole.conns.Load()
	const clients = 40
	var wg sync.WaitGroup
	statuses := make(chan int, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- w.get(t, "/api/v1/rates?from=EUR&to=USD").Status
		}()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 200 {
			t.Fatalf("a lookup answered %d with Redis frozen, want 200 from PostgreSQL", st)
		}
	}
	// One shared reload (a connection or two: go-redis replaces one that
	// timed out), then a second of PostgreSQL only; never one per client.
	if n := hole.conns.Load() - before; n > 3 {
		t.Fatalf("%d clients made %d Redis connections; they should share one read and back off", clients, n)
	}
}
