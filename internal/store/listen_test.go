package store_test

import (
	"context"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ces/internal/store"
	"ces/internal/testenv"
)

// silencer forwards TCP to target until frozen; then it keeps every
// connection open and forwards nothing, as a dead network path does.
type silencer struct {
	l      net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newSilencer(t *testing.T, target string) *silencer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{l: l}
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			s.mu.Lock()
			s.conns = append(s.conns, c, u)
			s.mu.Unlock()
			go s.pipe(u, c)
			go s.pipe(c, u)
		}
	}()
	return s
}

func (s *silencer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if s.frozen.Load() {
			continue // swallowed
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestListenerNoticesASilentConnection: when the listening connection's
// path goes silent without closing, ListenRateChanges returns within its
// silence check instead of waiting for ever, so the history cache stops
// serving and reconnects.
func TestListenerNoticesASilentConnection(t *testing.T) {
	defer store.SetListenTimings(200*time.Millisecond, 300*time.Millisecond)()
	dsn := testenv.DatabaseURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	s := newSilencer(t, u.Host)
	u.Host = s.l.Addr().String()
	db, err := store.OpenListener(context.Background(), u.String(), store.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ready := make(chan struct{})
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		done <- store.NewRates(db).ListenRateChanges(ctx, func() error { close(ready); return nil }, func(store.RateChange) error { return nil })
	}()
	<-ready
	// Quiet but alive: it keeps listening through several silence checks.
	select {
	case err := <-done:
		t.Fatalf("stopped while the connection answered: %v", err)
	case <-time.After(time.Second):
	}
	s.frozen.Store(true)
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("returned %v", err)
		}
		t.Logf("noticed: %v", err)
	case <-time.After(3 * time.Second):
		t.Fatal("still listening 3 s after the connection went silent")
	}
}
