package ces_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ces/internal/metrics"
	"ces/internal/testenv"
)

// notRun lists the shell examples of the README and docs/ this test does
// not run, each with the reason. Every other line of every ```sh block runs.
var notRun = map[string]string{
	"make up":                   "the test itself starts the stack the README's way for its examples: OFFLINE=1 make up",
	"OFFLINE=1 make up":         "this is how the test starts the stack (on ports of its own)",
	"make test":                 "this test is part of make test",
	"cp .env.example .env":      "docker-compose path: no Docker engine here; internal/config validates the compose file",
	"docker compose up --build": "no Docker engine on this machine; internal/config validates the compose file",
	"docker compose run --rm ces-verify-audit --full":                           "no Docker engine on this machine; internal/config validates the compose file",
	"DATABASE_URL=postgres://ces_api_ces:choose-one@127.0.0.1:5432/ces bin/api": "starts a second, long-running API, on the database ces (the test's has another name)",
	"make bench":                 "takes half an hour; bench/'s own tests run its stages in short form",
	"BENCH_QUICK=1 make bench":   "takes minutes and needs the machine to itself; bench/'s own tests run its stages in short form",
	"BENCH_PROFILE=1 make bench": "as make bench",
	"make faults":                "make test runs the fault suite after this test",
	"bash scripts/faults.sh -run 'TestFaults/redis-frozen'": "the fault suite starts a stack of its own; make test runs it after this test",
	"helm install *": "no Kubernetes cluster is reachable from this machine; deploy/'s test renders the chart for seven value sets and runs helm lint --strict",
}

// skipReason says why the test does not run cmd, if it does not: an
// entry of notRun names cmd exactly, or, ending in " *", its beginning.
func skipReason(cmd string) (string, bool) {
	if why, ok := notRun[cmd]; ok {
		return why, true
	}
	for k, why := range notRun {
		if prefix, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(cmd, prefix) {
			return why, true
		}
	}
	return "", false
}

// exampleFiles are the documents whose examples the test runs, in the
// order it runs them: the README (whose tour makes the key the others
// use), then every document of docs/ by name.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(docs)
	return append([]string{"README.md"}, docs...)
}

// example is one logical line of a ```sh block and the document it is in.
type example struct{ file, cmd string }

// readmeExamples returns the logical lines of every ```sh block of every
// example file (with continuations joined and comments removed), in
// order, and the ```json blocks with the command they answer.
func readmeExamples(t *testing.T) ([]example, map[string]string) {
	t.Helper()
	var all []example
	answers := map[string]string{}
	for _, name := range exampleFiles(t) {
		cmds, ans := fileExamples(t, name)
		for _, c := range cmds {
			all = append(all, example{name, c})
		}
		for k, v := range ans {
			answers[k] = v
		}
	}
	return all, answers
}

func fileExamples(t *testing.T, name string) ([]string, map[string]string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	answers := map[string]string{}
	var block, pending, answerOf string
	var jsonBuf strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case block == "" && strings.HasPrefix(line, "<!-- readme-test: answers "):
			answerOf = strings.TrimSuffix(strings.TrimPrefix(line, "<!-- readme-test: answers "), " -->")
		case block == "" && strings.HasPrefix(line, "```"):
			block = strings.TrimPrefix(line, "```")
			jsonBuf.Reset()
		case block != "" && line == "```":
			if block == "json" && answerOf != "" {
				answers[answerOf] = jsonBuf.String()
			}
			block, answerOf = "", ""
		case block == "json":
			jsonBuf.WriteString(line + "\n")
		case block == "sh":
			if i := strings.Index(line, "  #"); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "#") || line == "" {
				continue
			}
			if strings.HasSuffix(line, "\\") {
				pending += strings.TrimSuffix(line, "\\") + " "
				continue
			}
			cmds = append(cmds, strings.Join(strings.Fields(pending+line), " "))
			pending = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds, answers
}

// placeholder finds what a reader would have to replace before pasting a
// line: <id>-style names (which the shell reads as redirections) and an
// ellipsis.
var placeholder = regexp.MustCompile(`<[A-Za-z_][A-Za-z0-9_ -]*>|…`)

// TestExamplesArePasteable: no example the test runs asks the reader to
// fill something in; values come from shell variables set by the lines
// before them.
func TestExamplesArePasteable(t *testing.T) {
	examples, _ := readmeExamples(t)
	if len(examples) < 50 {
		t.Fatalf("only %d examples found in %v: the parser finds too little", len(examples), exampleFiles(t))
	}
	for _, e := range examples {
		if _, skip := skipReason(e.cmd); skip {
			continue
		}
		if m := placeholder.FindString(e.cmd); m != "" {
			t.Errorf("%s: %s\nasks the reader to replace %q: set a shell variable in an earlier line instead", e.file, e.cmd, m)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

// TestReadmeExamples starts CES the way the README says (the offline
// demo, on ports of its own) and runs every shell example of the README
// against it, in order, as a new user would type them: each must succeed,
// and the JSON the README shows must have the fields of the real answer.
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	testenv.TemporalAddress(t) // make test provides the Temporal CLI this needs
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "temporal")); err != nil {
		t.Skipf("bin/temporal is missing (make test builds it): %v", err)
	}
	examples, answers := readmeExamples(t)

	// The stack: a database and a Redis database of its own, free ports.
	dbURL := testenv.DatabaseURL(t)
	ru, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ru.Path = "/15"
	rdb := redis.NewClient(&redis.Options{Addr: ru.Host, DB: 15})
	defer rdb.Close()
	rdb.FlushDB(context.Background())
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	httpAddr, adminAddr, metricsAddr, tport, uiport := freeAddr(t), freeAddr(t), freeAddr(t), port(freeAddr(t)), port(freeAddr(t))
	data := t.TempDir()
	env := append(os.Environ(), "OFFLINE=1", "CES_DATA_DIR="+data, "DATABASE_URL="+dbURL, "REDIS_URL="+ru.String(),
		"HTTP_ADDR="+httpAddr, "ADMIN_ADDR="+adminAddr, "METRICS_ADDR="+metricsAddr, "CES_TEMPORAL_PORT="+tport, "CES_TEMPORAL_UI_PORT="+uiport,
		"TEMPORAL_ADDRESS=127.0.0.1:"+tport)
	up := exec.Command("make", "up")
	up.Dir, up.Env = root, env
	up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(data, "make-up.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	up.Stdout, up.Stderr = logFile, logFile
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-up.Process.Pid, syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- up.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-up.Process.Pid, syscall.SIGKILL)
			<-done
		}
		// make can exit before the stack's processes (its process group)
		// have: wait until none is left, so none still writes into the
		// data folder while the test removes it.
		for end := time.Now().Add(30 * time.Second); syscall.Kill(-up.Process.Pid, 0) == nil; {
			if time.Now().After(end.Add(5 * time.Second)) {
				t.Logf("processes of make up's group are left after SIGKILL")
				break
			}
			if time.Now().After(end) {
				syscall.Kill(-up.Process.Pid, syscall.SIGKILL)
			}
			time.Sleep(100 * time.Millisecond)
		}
		logFile.Close()
	})
	// make up builds the binaries (a cache hit under make test, which built
	// them first) and backfills the recordings: seconds, unless the machine
	// is busy compiling the other packages' tests.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "CES is running") {
			break
		}
		if up.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("make up did not come up:\n%s", b)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// A second terminal: the README's commands, with the stack's ports,
	// from a folder that has the repository's bin/ and the .data/ make up
	// fills, and nothing else.
	term := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "bin"), filepath.Join(term, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, filepath.Join(term, ".data")); err != nil {
		t.Fatal(err)
	}
	stackEnv := append(os.Environ(), "PASSWORD=readme-example-password")
	if b, err := os.ReadFile(filepath.Join(data, "env")); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			stackEnv = append(stackEnv, l)
		}
	} else {
		t.Fatalf("make up left no env file: %v", err)
	}
	rewrite := strings.NewReplacer("127.0.0.1:8080", httpAddr, "127.0.0.1:8081", adminAddr, "127.0.0.1:9091", metricsAddr)
	// The examples are one shell session: a variable a line sets (ID=$(…))
	// is there for the lines after it, in every document. Each line runs in
	// its own bash, which loads the variables the lines before it left and
	// saves them again (set -a exports every assignment).
	state := filepath.Join(t.TempDir(), "session")
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stackEnv = append(stackEnv, "CES_EXAMPLE_SESSION="+state)
	const session = `set -a; . "$CES_EXAMPLE_SESSION"
%s
rc=$?; set +a
export -p | grep -Ev '^declare -x (BASHOPTS|SHELLOPTS|BASH_[A-Z_]*|PWD|OLDPWD|SHLVL|_|CES_EXAMPLE_SESSION)=' > "$CES_EXAMPLE_SESSION"
exit $rc`
	outputs := map[string]string{}
	for _, e := range examples {
		cmd := e.cmd
		if why, skip := skipReason(cmd); skip {
			t.Logf("not run: %s: %s (%s)", e.file, cmd, why)
			continue
		}
		t.Run(cmd, func(t *testing.T) {
			line := rewrite.Replace(cmd)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			sh := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", fmt.Sprintf(session, line))
			sh.Dir, sh.Env = term, stackEnv
			if strings.Contains(line, "createsuperuser") && !strings.Contains(line, "|") {
				// A terminal would ask twice, without echo; stdin is the scripted form.
				sh.Stdin = strings.NewReader("readme-example-password\n")
			}
			out, err := sh.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %s: %v\n%s", e.file, line, err, out)
			}
			text := strings.TrimSpace(string(out))
			outputs[cmd] = text
			if strings.HasPrefix(line, "curl") {
				checkCurl(t, line, text)
			}
		})
	}
	// Whatever the examples wrote (keys, pinned public keys) is under the
	// git-ignored .data/, never beside the sources.
	if entries, err := os.ReadDir(term); err != nil {
		t.Fatal(err)
	} else {
		for _, e := range entries {
			if e.Name() != "bin" && e.Name() != ".data" {
				t.Errorf("an example wrote %s into the repository's root, where git does not ignore it", e.Name())
			}
		}
	}
	// Every publisher's recordings, served by the demo, price the world.
	t.Run("coverage", func(t *testing.T) { checkWorldCoverage(t, "http://"+httpAddr) })
	// Every metric the alerting rules and the dashboard read is one the
	// running API or worker exports.
	t.Run("alert metrics", func(t *testing.T) {
		checkAlertMetrics(t, "http://"+httpAddr, "http://"+adminAddr, "http://"+metricsAddr)
	})
	// The JSON the README shows has the fields of the real answers.
	for cmd, shown := range answers {
		t.Run("json of "+cmd, func(t *testing.T) {
			real, matched := "", 0
			for c, out := range outputs {
				if strings.HasPrefix(c, cmd) {
					real = out
					matched++
				}
			}
			if matched > 1 {
				t.Fatalf("%d examples begin with %q: make the marker name one", matched, cmd)
			}
			if real == "" {
				t.Fatalf("no example ran %q", cmd)
			}
			var a, b any
			if err := json.Unmarshal([]byte(shown), &a); err != nil {
				t.Fatalf("the README's JSON does not parse: %v\n%s", err, shown)
			}
			if err := json.Unmarshal([]byte(real), &b); err != nil {
				t.Fatalf("the answer is not JSON: %v\n%s", err, real)
			}
			if d := shapeDiff("", a, b); d != "" {
				t.Fatalf("the README's JSON and the real answer differ in shape: %s\nREADME: %s\nreal: %s", d, shown, real)
			}
		})
	}
}

// checkAlertMetrics reads deploy/prometheus/metrics.txt (the names the
// rules and the dashboard read; deploy's test keeps it current) and finds
// each in the live /metrics of the API or the worker. A labelled family
// has no series before its first use (no conversion failed yet, no rate
// held): such a name passes only if the process's metrics package
// registers it (metrics.API.Names, Worker.Names, read from the registry).
func checkAlertMetrics(t *testing.T, public, admin, worker string) {
	// The readiness probe sets ces_dependency_up, as the kubelet's does.
	if _, err := httpGet(public + "/readyz"); err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, u := range []string{admin + "/metrics", worker + "/metrics"} {
		text, err := httpGet(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(text, "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				live[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
			}
		}
	}
	api := metrics.NewAPI(nil, func(context.Context, string) (time.Time, bool, error) { return time.Time{}, false, nil }, time.Now)
	w, err := metrics.NewWorker(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	registered := append(api.Names(), w.Names()...)
	list, err := os.ReadFile(filepath.Join("deploy", "prometheus", "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(string(list), "")) {
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(registered, f) {
				family = f
			}
		}
		switch {
		case live[name]:
		case slices.Contains(registered, family):
			t.Logf("%s: registered, no series yet", name)
		default:
			t.Errorf("%s is read by an alert or the dashboard but neither the API nor the worker exports it", name)
		}
	}
}

func httpGet(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// checkCurl fails on an error answer: every README example succeeds.
func checkCurl(t *testing.T, line, out string) {
	t.Helper()
	if strings.Contains(line, "%{http_code}") {
		if out != "304" { // the README's only status example is the revalidation
			t.Fatalf("status %s, want 304", out)
		}
		return
	}
	if strings.Contains(line, "/metrics") {
		if !strings.Contains(out, "ces_") && !strings.Contains(out, "temporal_") {
			t.Fatalf("no metrics in:\n%s", out)
		}
		return
	}
	var answer any
	if err := json.Unmarshal([]byte(out), &answer); err != nil {
		t.Fatalf("not JSON: %s", out)
	}
	body, _ := answer.(map[string]any) // an array (a jq selection) has no error field
	if e, ok := body["error"]; ok {
		t.Fatalf("error answer: %v", e)
	}
	if st, ok := body["status"].(string); ok && st != "ok" && st != "ready" {
		t.Fatalf("status %q: %s", st, out)
	}
}

// shapeDiff reports the first place where a and b differ in their keys
// (objects) or kinds; arrays compare element by element up to the shorter.
func shapeDiff(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object in the README, %T in the answer", path, b)
		}
		keys := func(m map[string]any) []string {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			return ks
		}
		if ka, kb := strings.Join(keys(av), ","), strings.Join(keys(bv), ","); ka != kb {
			return fmt.Sprintf("%s: README keys {%s}, answer keys {%s}", path, ka, kb)
		}
		for k := range av {
			if d := shapeDiff(path+"."+k, av[k], bv[k]); d != "" {
				return d
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: array in the README, %T in the answer", path, b)
		}
		for i := 0; i < len(av) && i < len(bv); i++ {
			if d := shapeDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); d != "" {
				return d
			}
		}
	default:
		if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
			return fmt.Sprintf("%s: %T in the README, %T in the answer", path, a, b)
		}
	}
	return ""
}

// quoted matches the shell's quoted strings, where > is text.
var quoted = regexp.MustCompile(`'[^']*'|"(?:[^"\\]|\\.)*"`)

// redirect finds where a shell line writes a file: the targets of > and
// >> (2>&1 names a descriptor, not a file), tee's and --out's.
var redirect = regexp.MustCompile(`(?:^|\s)[0-9]?>>?\s*([^\s;&|)]+)|\btee\s+(?:-a\s+)?([^\s;&|)]+)|--out\s+([^\s;&|)]+)`)

// TestReadmeExamplesWriteOnlyIgnoredFiles: every file a README example
// writes is one git ignores (.data/), so that a key or a pinned copy made
// by following the README is never offered for a commit.
func TestReadmeExamplesWriteOnlyIgnoredFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	examples, _ := readmeExamples(t)
	var written int
	for _, e := range examples {
		cmd := e.cmd
		for _, m := range redirect.FindAllStringSubmatch(quoted.ReplaceAllString(cmd, "''"), -1) {
			target := m[1] + m[2] + m[3]
			if target == "/dev/null" {
				continue
			}
			written++
			if err := exec.Command("git", "check-ignore", "-q", "--", target).Run(); err != nil {
				t.Errorf("%s: %s\nwrites %s, which git does not ignore (%v): write it under .data/", e.file, cmd, target, err)
			}
		}
	}
	if written == 0 {
		t.Fatal("no example writes a file: the pattern finds nothing")
	}
}
