package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"ces/internal/store"
	"ces/internal/testenv"
)

// TestFailoverFollowsThePrimary: with DATABASE_URL naming the primary and
// its synchronous standby under target_session_attrs=read-write, the same
// pool writes again once the primary is lost and the standby promoted,
// the row committed before the loss is there, and the listening
// connection, reconnecting as the history cache's loop does, hears
// announcements again. Naming the old primary alone, writes never come
// back: the multi-host URL is what follows the failover.
func TestFailoverFollowsThePrimary(t *testing.T) {
	for _, tc := range []struct {
		name      string
		multiHost bool
	}{
		{"both hosts, read-write", true},
		{"the old primary only", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			primary := testenv.NewCluster(t)
			standby := primary.NewStandby(t, true)
			url := primary.URL("postgres")
			if tc.multiHost {
				url = testenv.MultiHostURL("postgres", testenv.ClusterPassword, "postgres", primary, standby)
			}
			db, err := store.Open(ctx, url, 4)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ldb, err := store.OpenListener(ctx, url, store.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer ldb.Close()
			if _, err := db.ExecContext(ctx, "CREATE TABLE failover (n int PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO failover VALUES (1)"); err != nil {
				t.Fatal(err)
			}

			// The listener, restarted on every failure as the history
			// cache's loop does.
			lctx, stop := context.WithCancel(ctx)
			defer stop()
			ready, heard := make(chan struct{}, 16), make(chan store.RateChange, 16)
			go func() {
				for lctx.Err() == nil {
					store.NewRates(ldb).ListenRateChanges(lctx, func() error { ready <- struct{}{}; return nil },
						func(rc store.RateChange) error { heard <- rc; return nil })
					time.Sleep(100 * time.Millisecond)
				}
			}()
			hears := func(n int64) bool {
				if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", store.RatesChannel, "ecb "+strconv.FormatInt(n, 10)); err != nil {
					t.Logf("notify: %v", err)
					return false
				}
				for {
					select {
					case rc := <-heard:
						if rc.From.Equal(time.UnixMicro(n).UTC()) {
							return true
						}
					case <-time.After(3 * time.Second):
						return false
					}
				}
			}
			waitReady := func() bool {
				select {
				case <-ready:
					return true
				case <-time.After(30 * time.Second):
					return false
				}
			}
			if !waitReady() || !hears(1) {
				t.Fatal("the listener does not hear announcements before the failover")
			}

			if err := primary.Crash(); err != nil {
				t.Fatal(err)
			}
			crashed := time.Now()
			if err := standby.Promote(); err != nil {
				t.Fatal(err)
			}
			// The pool's connections to the old primary fail once each; the
			// next attempt finds the new one.
			var werr error
			wrote := false
			for time.Since(crashed) < 10*time.Second {
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, werr = db.ExecContext(wctx, "INSERT INTO failover VALUES (2)")
				cancel()
				if werr == nil {
					wrote = true
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !tc.multiHost {
				if wrote {
					t.Fatal("a write succeeded through the old primary's URL after it was lost")
				}
				t.Logf("as expected, no write through the old primary's URL within 10 s: %v", werr)
				return
			}
			if !wrote {
				t.Fatalf("no write within 10 s of the failover: %v", werr)
			}
			t.Logf("writing again %s after the primary was lost", time.Since(crashed).Round(time.Millisecond))
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM failover").Scan(&n); err != nil || n != 2 {
				t.Fatalf("the new primary holds %d rows (%v), want the one committed before the loss and the one after", n, err)
			}
			var recovering bool
			if err := db.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering); err != nil || recovering {
				t.Fatalf("the pool writes to a server in recovery (%v, %v)", recovering, err)
			}
			if !waitReady() {
				t.Fatal("the listener did not listen again after the failover")
			}
			if !hears(2) {
				t.Fatal("the listener does not hear announcements after the failover")
			}
		})
	}
}

// TestOpenNamesEveryHost: when no host of a multi-host URL answers, the
// error names each (and never the password).
func TestOpenNamesEveryHost(t *testing.T) {
	a, b := testenv.FreePort(t), testenv.FreePort(t)
	url := "postgres://ces:secret-pw@127.0.0.1:" + strconv.Itoa(a) + ",127.0.0.1:" + strconv.Itoa(b) + "/ces?sslmode=disable&target_session_attrs=read-write"
	_, err := store.Open(context.Background(), url, 1)
	if err == nil {
		t.Fatal("opened a pool on two closed ports")
	}
	want := "127.0.0.1:" + strconv.Itoa(a) + ",127.0.0.1:" + strconv.Itoa(b) + "/ces"
	if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "secret-pw") {
		t.Fatalf("error %q: want it to name %s and not the password", msg, want)
	}
}

// TestCommitNotReplicatedIsNotSuccess: when a COMMIT waits for a
// synchronous standby that does not answer, CES stops waiting after the
// request's deadline and its grace; PostgreSQL then keeps the commit on
// the primary alone and only warns. The write must not report success,
// since a failover to the standby would lose it: the caller answers 503
// with the Idempotency-Key, and a retry with it finds the receipt.
func TestCommitNotReplicatedIsNotSuccess(t *testing.T) {
	ctx := context.Background()
	primary := testenv.NewCluster(t)
	standby := primary.NewStandby(t, true)
	db, err := store.Open(ctx, primary.URL("postgres"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE unreplicated (n int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := standby.Crash(); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name  string
		write func(ctx context.Context, stmt string) error
	}{
		{"one message (writeFused)", func(ctx context.Context, stmt string) error { return store.WriteFused(ctx, db, stmt) }},
		{"transaction (writeTx)", func(ctx context.Context, stmt string) error { return store.WriteTx(ctx, db, stmt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			began := time.Now()
			err := tc.write(wctx, "INSERT INTO unreplicated VALUES ("+strconv.Itoa(i)+")")
			took := time.Since(began)
			if err == nil {
				t.Fatalf("a commit the synchronous standby never confirmed reported success after %s", took.Round(time.Millisecond))
			}
			if took > 3*time.Second {
				t.Fatalf("took %s, want the deadline plus the commit's grace", took)
			}
			t.Logf("after %s: %v", took.Round(time.Millisecond), err)
		})
	}
}
