// Command replay stands in for every publisher: it serves the answers
// recorded under testdata/ (internal/replay) on a loopback address, so
// the worker can ingest and backfill offline through its real adapters
// (FX_<KEY>_BASE_URL=http://<addr>/<key>). It prints one line per
// publisher (key, backfill from, to), then the address it listens on:
// a script that sees the address has the whole list.
//
//	go run ./replay -addr 127.0.0.1:0 -dir testdata
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ces/internal/replay"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	dir := flag.String("dir", "testdata", "folder holding <key>/replay.json of every publisher")
	flag.Parse()
	if err := run(*addr, *dir); err != nil {
		log.Fatalf("replay: %v", err)
	}
}

func run(addr, dir string) error {
	h, err := replay.Load(dir)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	// Recordings are no secret, but a stand-in publisher has no business
	// answering anyone but this machine.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("address %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for _, k := range h.Keys() {
		m, _ := h.Manifest(k)
		fmt.Printf("%s %s %s\n", k, m.Backfill.From, m.Backfill.To)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
