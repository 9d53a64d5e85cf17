package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"ces/internal/clients"
	"ces/internal/fx"
	"ces/internal/testenv"
)

// TestRedisTopologies runs the API's Redis paths against a Redis Cluster
// and a Sentinel group: lookups answered from the cache without SQL, a
// quota shared by two replicas, and a revocation announced by one replica
// and heard by another.
func TestRedisTopologies(t *testing.T) {
	for _, topo := range testenv.RedisTopologies {
		t.Run(topo.Name, func(t *testing.T) {
			ctx := context.Background()
			rdb, _ := topo.Start(t)
			quotas := map[string]int{clients.ScopeRatesRead: 3, clients.ScopeConvert: 100}
			w := newWorld(t, options{redis: rdb, quotas: quotas})
			w.ingest(t, ecbHistory(t)...)
			cached, err := w.cache.Latest(ctx, []string{"ecb"})
			if err != nil || len(cached["ecb"]) == 0 {
				t.Fatalf("ingestion did not reach the cache: %v %v", cached, err)
			}

			// Lookups: from Redis, no SQL once the first has read what
			// PostgreSQL alone knows (publishers' health).
			w.get(t, "/api/v1/rates?from=EUR&to=JPY", "Authorization", "-")
			before := w.queries.n.Load()
			for _, pair := range []string{"from=EUR&to=USD", "from=USD&to=GBP", "from=GBP&to=CHF"} {
				if r := w.get(t, "/api/v1/rates?"+pair, "Authorization", "-"); r.Status != 200 {
					t.Fatalf("%s: %d %s", pair, r.Status, r.Body)
				}
			}
			if n := w.queries.n.Load() - before; n != 0 {
				t.Fatalf("lookups ran %d SQL statements: the cache did not answer", n)
			}

			// A quota: two replicas draw on one allowance.
			replica := w.replica(t, quotas)
			for i := range 3 {
				app := w.app
				if i%2 == 1 {
					app = replica
				}
				if r := sendAuthed(t, app, w.key, "/api/v1/rates?from=EUR&to=USD"); r.Status != 200 {
					t.Fatalf("request %d within the quota: %d %s", i, r.Status, r.Body)
				}
			}
			if r := sendAuthed(t, replica, w.key, "/api/v1/rates?from=EUR&to=USD"); r.Status != 429 {
				t.Fatalf("request over the quota: %d %s", r.Status, r.Body)
			}

			// A revocation announced by one replica reaches the other.
			key, id := w.newKey(t, "revoked", clients.ScopeConvert)
			var replicas []*clients.Authenticator
			for range 2 {
				a := clients.NewAuthenticator(w.st.Keys, rdb, "ces:", quiet)
				actx, cancel := context.WithCancel(ctx)
				t.Cleanup(cancel)
				go a.Watch(actx)
				for deadline := time.Now().Add(10 * time.Second); !a.Listening(); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("an authenticator did not subscribe within 10 s")
					}
				}
				if _, err := a.Authenticate(ctx, "Bearer "+key); err != nil {
					t.Fatal(err)
				}
				replicas = append(replicas, a)
			}
			if err := w.st.Keys.RevokeAPIKey(ctx, id, "test", "leaked"); err != nil {
				t.Fatal(err)
			}
			if err := replicas[0].Announce(ctx, id); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Second)
			for i, a := range replicas {
				for {
					if _, err := a.Authenticate(ctx, "Bearer "+key); errors.Is(err, fx.ErrUnauthorized) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("replica %d still accepts the key a second after its revocation", i)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
}

// sendAuthed asks app for target with key.
func sendAuthed(t *testing.T, app *fiber.App, key, target string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	return sendTo(t, app, req)
}
