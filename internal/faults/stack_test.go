package faults_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"ces/internal/store"
	"ces/internal/testenv"
)

// proc is one process of the stack, its output appended to a log file.
type proc struct {
	name string
	args []string
	env  []string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.env, p.dir, f, f
	// Its own process group, so a kill reaches whatever it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		f.Close()
		close(p.done)
	}()
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) {
	if p.running() {
		syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// kill is kill -9: no cleanup, no goodbye to Temporal or PostgreSQL.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGKILL)
	<-p.done
}

// stop asks politely, then kills after grace.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// tail returns the end of the process's log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// eventually polls cond every 100 ms until it holds or within passes.
func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// redisServer is a Redis of the suite's own, to stop, freeze and flush.
type redisServer struct {
	port int
	proc *proc
}

func newRedis(t *testing.T, dir string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed; make faults installs it")
	}
	r := &redisServer{port: testenv.FreePort(t)}
	r.proc = &proc{name: "redis", dir: dir, log: filepath.Join(dir, "redis.log"),
		args: []string{bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port), "--save", "", "--appendonly", "no", "--dir", dir}}
	r.start(t)
	t.Cleanup(func() { r.proc.kill() })
	return r
}

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.proc.start(t)
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer c.Close()
	if !eventually(10*time.Second, func() bool { return c.Ping(context.Background()).Err() == nil }) {
		t.Fatalf("redis did not start:\n%s", r.proc.tail())
	}
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// temporalServer is a Temporal dev server of the suite's own, with its
// state in a file so a restart keeps workflows and schedules.
type temporalServer struct {
	cli  string
	port int
	proc *proc
}

func newTemporal(t *testing.T, dir string) *temporalServer {
	t.Helper()
	cli := os.Getenv("CES_TEST_TEMPORAL_CLI")
	if cli == "" {
		cli = filepath.Join(testenv.RepoRoot(t), "bin", "temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		unavailable(t, "no Temporal CLI at %s (make faults builds it)", cli)
	}
	s := &temporalServer{cli: cli, port: testenv.FreePort(t)}
	s.proc = &proc{name: "temporal", dir: dir, log: filepath.Join(dir, "temporal.log"), args: []string{
		cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--db-filename", filepath.Join(dir, "temporal.db"), "--log-level", "warn",
		"--search-attribute", "FxProvider=Keyword", "--search-attribute", "RatesInserted=Int", "--search-attribute", "RatesQuarantined=Int",
	}}
	s.start(t)
	t.Cleanup(func() { s.proc.kill() })
	return s
}

func (s *temporalServer) start(t *testing.T) {
	t.Helper()
	s.proc.start(t)
	ok := eventually(60*time.Second, func() bool {
		return exec.Command(s.cli, "operator", "namespace", "describe", "--address", s.addr(), "--namespace", "default").Run() == nil
	})
	if !ok {
		t.Fatalf("temporal dev server did not start:\n%s", s.proc.tail())
	}
}

func (s *temporalServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// standin serves the ECB's endpoints from a real recording (testdata/ecb:
// the ECB's 90-day file as published on 2017-03-03), one reference day
// at a time, and can be switched to the ways providers fail.
type standin struct {
	srv  *httptest.Server
	mode atomic.Value // "ok", "500", "garbage", "hang", "slow"
	day  atomic.Int64 // index into days of the day the daily file holds
	head string
	days []string // "<Cube time=...>...</Cube>", oldest first
	hist []byte
	hits atomic.Int64
	// tamper, when set, rewrites the daily file's cube (a crafted move).
	tamper atomic.Pointer[func(string) string]
}

// Provider modes.
const (
	modeOK      = "ok"
	mode500     = "500"
	modeGarbage = "garbage"
	modeHang    = "hang"
	modeSlow    = "slow"
)

var cubeDay = regexp.MustCompile(`<Cube time="\d{4}-\d{2}-\d{2}">.*?</Cube>`)

func newStandin(t *testing.T) *standin {
	t.Helper()
	hist, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "ecb", "eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s := &standin{hist: hist}
	found := cubeDay.FindAll(hist, -1)
	for i := len(found) - 1; i >= 0; i-- { // the file is newest first
		s.days = append(s.days, string(found[i]))
	}
	s.head = string(hist[:bytes.Index(hist, found[0])])
	if len(s.days) < 40 || !strings.HasSuffix(s.head, "<Cube>") {
		t.Fatalf("the ECB recording is not what the stand-in expects (%d days)", len(s.days))
	}
	s.mode.Store(modeOK)
	s.day.Store(int64(len(s.days) - 20))
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// daily is the ECB's daily file for the current day: the recording's
// envelope around that day's cube.
func (s *standin) daily() []byte {
	day := s.days[s.day.Load()]
	if f := s.tamper.Load(); f != nil {
		day = (*f)(day)
	}
	return []byte(s.head + day + "</Cube></gesmes:Envelope>")
}

// date is the reference day the daily file currently holds.
func (s *standin) date() string {
	d := s.days[s.day.Load()]
	i := strings.Index(d, `time="`) + len(`time="`)
	return d[i : i+10]
}

// advance publishes the next reference day.
func (s *standin) advance() { s.day.Add(1) }

func (s *standin) setMode(m string) { s.mode.Store(m) }

func (s *standin) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	switch s.mode.Load().(string) {
	case mode500:
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	case modeGarbage:
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("\x1f\x8b\x08\x00garbage<Cube time=\"2017-13-45\"><Cube currency=\"USD\" rate=\"one\"/>"))
		return
	case modeHang:
		// Holds the connection until the client gives up.
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Minute):
		}
		return
	case modeSlow:
		time.Sleep(1500 * time.Millisecond)
	}
	w.Header().Set("Content-Type", "text/xml")
	switch filepath.Base(r.URL.Path) {
	case "eurofxref-daily.xml":
		w.Write(s.daily())
	case "eurofxref-hist-90d.xml", "eurofxref-hist.xml":
		w.Write(s.hist)
	default:
		http.NotFound(w, r)
	}
}

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("fault suite cannot run under CI: "+format, args...)
	}
	t.Skipf("fault suite cannot run: "+format, args...)
}

// stack is CES and everything it depends on, each part breakable.
type stack struct {
	dir string
	bin string
	pg  *testenv.Cluster // the suite's own, to stop and start
	// standby, when set, is pg's synchronous streaming standby, to promote.
	standby  *testenv.Cluster
	redis    *redisServer
	temporal *temporalServer
	provider *standin
	api      *proc
	worker   *proc
	apiURL   string
	// adminURL is the API's ADMIN_ADDR: the admin console and /metrics.
	adminURL string
	env      []string

	admin *sql.DB // superuser: locks, counts
	db    *bun.DB // for store queries the invariants compare against
	st    *store.Store
	rdb   *redis.Client
	tc    client.Client
	// signingKey is the worker's AUDIT_SIGNING_KEY_FILE.
	signingKey string
	// rep, while the replicas experiments run, is a second API and worker.
	rep *replicas
}

const taskQueue = "ces-ingest"

// auditQueue is where the worker serves sealing and verification (the
// default TEMPORAL_AUDIT_TASK_QUEUE).
const auditQueue = "ces-audit"

func (s *stack) newWorker(t *testing.T) *proc {
	t.Helper()
	p := &proc{name: "worker", dir: s.dir, env: append(s.as(workerLogin), "AUDIT_SIGNING_KEY_FILE="+s.signingKey), log: filepath.Join(s.dir, "worker.log"), args: []string{filepath.Join(s.bin, "worker")}}
	p.start(t)
	return p
}

func (s *stack) newAPI(t *testing.T) *proc {
	t.Helper()
	p := &proc{name: "api", dir: s.dir, env: s.as(apiLogin), log: filepath.Join(s.dir, "api.log"), args: []string{filepath.Join(s.bin, "api")}}
	p.start(t)
	if !eventually(20*time.Second, func() bool {
		resp, err := http.Get(s.apiURL + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("api did not start:\n%s", p.tail())
	}
	return p
}

// loginPassword is the password of both processes' logins on the suite's
// private cluster.
const loginPassword = "faults-only"

// apiLogin and workerLogin are the logins starter migrate makes for the
// suite's database, ces.
var apiLogin, workerLogin = store.DatabaseLogins("ces")

// as is the environment with DATABASE_URL naming login instead of the
// owner: the API and the worker run as their own roles.
func (s *stack) as(login string) []string {
	out := make([]string, 0, len(s.env))
	for _, kv := range s.env {
		if strings.HasPrefix(kv, "DATABASE_URL=") {
			kv = "DATABASE_URL=" + s.loginURL(login, loginPassword, "ces")
		}
		out = append(out, kv)
	}
	return out
}

// loginURL is the URL of database db as login: pg's, or, with a standby,
// both servers' with target_session_attrs=read-write.
func (s *stack) loginURL(login, password, db string) string {
	if s.standby != nil {
		return testenv.MultiHostURL(login, password, db, s.pg, s.standby)
	}
	return s.pg.LoginURL(login, password, db)
}

// starter runs a starter command, as the owner, to completion.
// Arguments of the form NAME=value are added to its environment instead.
func (s *stack) starter(ctx context.Context, args ...string) (string, error) {
	env := slices.Clone(s.env)
	var cmdArgs []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			env = append(env, a)
		} else {
			cmdArgs = append(cmdArgs, a)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), cmdArgs...)
	cmd.Env, cmd.Dir = env, s.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// starterStdout runs a starter command as the owner and returns its
// standard output alone (where apikey create prints the key).
func (s *stack) starterStdout(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), args...)
	cmd.Env, cmd.Dir = s.env, s.dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), err
	}
	return string(out), nil
}
