package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ces/internal/cache"
)

// demoRedisDB is the offline demo's Redis database: apart from the
// bench's (12) and the world stage's (14).
const demoRedisDB = 13

// demoTimeout bounds the wait for the offline demo; its target is 180 s.
const demoTimeout = 10 * time.Minute

// offlineDemo times `OFFLINE=1 make up` (scripts/up.sh) from its start to
// its "CES is running" line, on free loopback ports, with a data folder,
// a database and a Redis database of its own, as TestReadmeExamples runs
// it; then stops its process group (SIGTERM, then SIGKILL).
func offlineDemo(ctx context.Context, adminURL, redisURL string) (Result, error) {
	r := Result{Scenario: "offline demo: OFFLINE=1 make up to \"CES is running\"", Database: "demo"}
	dbURL, dropDB, err := createDatabase(ctx, adminURL)
	if err != nil {
		return r, fmt.Errorf("offline demo: %w", err)
	}
	defer dropDB()
	ru, err := url.Parse(redisURL)
	if err != nil {
		return r, err
	}
	ru.Path = "/" + strconv.Itoa(demoRedisDB)
	rdb, err := cache.NewClient(cache.Conn{URL: ru.String()}, cache.WorkerTimeouts)
	if err != nil {
		return r, err
	}
	defer func() { rdb.FlushDB(context.Background()); rdb.Close() }()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return r, fmt.Errorf("offline demo: flush redis database %d: %w", demoRedisDB, err)
	}
	data, err := os.MkdirTemp("", "ces-bench-demo-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(data)

	port := func() string { _, p, _ := net.SplitHostPort(freeAddr()); return p }
	tport := port()
	up := exec.Command("make", "up")
	// The stack may use every CPU: no load runs while it starts.
	if all := allCPUs(); all != "" {
		up = exec.Command("taskset", "-c", all, "make", "up")
	}
	up.Env = append(os.Environ(), "OFFLINE=1", "CES_DATA_DIR="+data, "DATABASE_URL="+dbURL, "REDIS_URL="+ru.String(),
		"HTTP_ADDR="+freeAddr(), "ADMIN_ADDR="+freeAddr(), "METRICS_ADDR="+freeAddr(),
		"CES_TEMPORAL_PORT="+tport, "CES_TEMPORAL_UI_PORT="+port(), "TEMPORAL_ADDRESS=127.0.0.1:"+tport)
	up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(data, "make-up.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return r, err
	}
	defer logFile.Close()
	up.Stdout, up.Stderr = logFile, logFile
	start := time.Now()
	if err := up.Start(); err != nil {
		return r, fmt.Errorf("offline demo: start make up: %w", err)
	}
	exited := make(chan struct{})
	go func() { up.Wait(); close(exited) }()
	defer stopGroup(up.Process.Pid, exited)

	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "CES is running") {
			break
		}
		select {
		case <-exited:
			return r, fmt.Errorf("offline demo: make up exited before it was running:\n%s", tail(b, 2000))
		default:
		}
		if time.Since(start) > demoTimeout {
			return r, fmt.Errorf("offline demo: not running after %s:\n%s", demoTimeout, tail(b, 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	r.TookS = took.Seconds()
	ok := took <= 180*time.Second
	r.Target, r.Met = "≤ 180 s (builds, Temporal, migrations, every ingestion triggered, every recorded range backfilled)", &ok
	return r, nil
}

// stopGroup stops the process group of pid: SIGTERM, then SIGKILL after
// 30 s, and waits until none of it is left (make can exit before the
// stack it started), so nothing still writes into the data folder.
func stopGroup(pid int, exited chan struct{}) {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	for end := time.Now().Add(30 * time.Second); syscall.Kill(-pid, 0) == nil; {
		if time.Now().After(end.Add(5 * time.Second)) {
			say("offline demo: processes of make up's group are left after SIGKILL")
			return
		}
		if time.Now().After(end) {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// allCPUs is every CPU of the machine as a taskset list ("0-1"), empty
// when the bench is not pinned.
func allCPUs() string {
	if os.Getenv("CES_BENCH_SERVER_CPUS") == "" {
		return ""
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	n := strings.Count(string(b), "\nprocessor") + 1
	return fmt.Sprintf("0-%d", n-1)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
