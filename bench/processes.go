package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// process is a child process the bench started.
type process struct {
	cmd  *exec.Cmd
	addr string
	// metricsAddr serves /metrics: the API's ADMIN_ADDR, else addr.
	metricsAddr string
}

// startProcess starts bin (on the servers' CPUs when the bench is pinned)
// and waits until it listens on addr.
func startProcess(bin, addr string, env []string) (*process, error) {
	cmd := exec.Command(bin)
	if cpus := os.Getenv("CES_BENCH_SERVER_CPUS"); cpus != "" {
		// taskset execs bin in its own process: the pid is bin's.
		cmd = exec.Command("taskset", "-c", cpus, bin)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, addr: addr, metricsAddr: addr}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "ADMIN_ADDR="); ok {
			p.metricsAddr = v
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not listen on %s", bin, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
}

// rssMB reads the process's resident set size from /proc.
func (p *process) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// heapMB reads the Go heap in use from the process's /metrics (0 when
// it serves none).
func (p *process) heapMB() float64 {
	b, err := httpGet("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f / (1 << 20)
		}
	}
	return 0
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

func waitListening(addr string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100
// on every Linux architecture the bench runs on (the kernel fixes it for
// user space whatever its own tick rate).
const clockTicks = 100

// cpuSeconds reads the process's CPU time so far, user and system
// (utime + stime of /proc/<pid>/stat).
func (p *process) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("read cpu time: unexpected /proc stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time: unexpected /proc stat %q", b)
	}
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu time: unexpected /proc stat %q", b)
	}
	return (utime + stime) / clockTicks, nil
}
