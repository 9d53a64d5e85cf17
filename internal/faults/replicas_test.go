package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"ces/internal/flow"
	"ces/internal/testenv"
)

// replicas is a second API and a second worker beside the stack's own,
// on the same PostgreSQL, Redis and Temporal: what a deployment with two
// replicas of every process runs.
type replicas struct {
	api2    *proc
	worker2 *proc
	api2URL string
	// api2AdminURL is the second API's ADMIN_ADDR (the console).
	api2AdminURL string
}

// startReplicas starts a second API and worker for one experiment; they
// stop when it ends (stopReplicas).
func (s *stack) startReplicas(t *testing.T) {
	t.Helper()
	if s.rep != nil {
		return
	}
	port, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	rp := &replicas{api2URL: fmt.Sprintf("http://127.0.0.1:%d", port), api2AdminURL: fmt.Sprintf("http://127.0.0.1:%d", adminPort)}
	rp.worker2 = &proc{name: "worker2", dir: s.dir, log: filepath.Join(s.dir, "worker2.log"), args: []string{filepath.Join(s.bin, "worker")},
		env: append(s.as(workerLogin), "AUDIT_SIGNING_KEY_FILE="+s.signingKey, fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", testenv.FreePort(t)))}
	rp.worker2.start(t)
	rp.api2 = &proc{name: "api2", dir: s.dir, log: filepath.Join(s.dir, "api2.log"), args: []string{filepath.Join(s.bin, "api")},
		env: append(s.as(apiLogin), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port), fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", adminPort))}
	rp.api2.start(t)
	if !eventually(20*time.Second, func() bool { return get(context.Background(), http.DefaultClient, rp.api2URL+"/healthz").status == 200 }) {
		t.Fatalf("the second api did not start:\n%s", rp.api2.tail())
	}
	s.rep = rp
	t.Cleanup(s.stopReplicas)
}

func (s *stack) stopReplicas() {
	if s.rep == nil {
		return
	}
	s.rep.api2.stop(10 * time.Second)
	s.rep.worker2.stop(10 * time.Second)
	s.rep = nil
}

// asOfOf is the as_of a lookup answered.
func asOfOf(a answer) string {
	var body struct {
		AsOf string `json:"as_of"`
	}
	json.Unmarshal(a.body, &body)
	return body.AsOf
}

// expReplicasIngestion: an ingestion run by either worker is visible on
// both APIs within a second of its run completing.
func expReplicasIngestion(t *testing.T, s *stack, r *reporter) {
	s.startReplicas(t)
	ctx := context.Background()
	s.provider.advance()
	res, err := s.ingest(ctx, "faults-"+r.name)
	done := time.Now()
	if err != nil || res.Inserted == 0 {
		t.Fatalf("ingestion: %+v, %v", res, err)
	}
	want := s.newestAsOf(ctx).Format(time.RFC3339)
	seen := map[string]time.Duration{}
	for time.Since(done) < 3*time.Second && len(seen) < 2 {
		for _, base := range []string{s.apiURL, s.rep.api2URL} {
			if _, ok := seen[base]; !ok && asOfOf(get(ctx, http.DefaultClient, base+lookupPath)) == want {
				seen[base] = time.Since(done)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.check(t, "a new ingestion is visible on both APIs within 1 s", len(seen) == 2 && seen[s.apiURL] <= time.Second && seen[s.rep.api2URL] <= time.Second,
		"%s on the first after %s, on the second after %s", want, seen[s.apiURL].Round(time.Millisecond), seen[s.rep.api2URL].Round(time.Millisecond))
}

// expReplicasIdempotency: one Idempotency-Key sent to both APIs at the
// same moment, many times over, writes one row per key.
func expReplicasIdempotency(t *testing.T, s *stack, r *reporter) {
	s.startReplicas(t)
	ctx := context.Background()
	hc := httpClient(10 * time.Second)
	const rounds = 20
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range rounds {
		key := fmt.Sprintf("replicas-%d-%d", time.Now().UnixNano(), i)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, base := range []string{s.apiURL, s.rep.api2URL} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				a := convert(ctx, hc, base, key)
				mu.Lock()
				statuses[a.status]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
	}
	rows := s.count(ctx, "SELECT count(*) FROM conversion_audits WHERE idempotency_key LIKE 'replicas-%'")
	keys := s.count(ctx, "SELECT count(DISTINCT idempotency_key) FROM conversion_audits WHERE idempotency_key LIKE 'replicas-%'")
	r.check(t, "the same Idempotency-Key sent to both APIs at once writes one row", rows == rounds && keys == rounds && statuses[201] == rounds,
		"%d keys sent twice at once: %d rows, statuses %v (201 once per key; the other 200 replayed or 409 in progress)", rounds, rows, statuses)
}

// expReplicasSharedLimits: a key's quota and the admin sign-in lock-out
// are counted once across both APIs, in Redis.
func expReplicasSharedLimits(t *testing.T, s *stack, r *reporter) {
	s.startReplicas(t)
	ctx := context.Background()
	out, err := s.starterStdout(ctx, "apikey", "create", "--name", "replicas quota", "--per-minute", "3")
	key := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(key, "ces_") {
		t.Fatalf("apikey create: %v %s", err, out)
	}
	hc := httpClient(10 * time.Second)
	var got []int
	for i := range 5 {
		base := []string{s.apiURL, s.rep.api2URL}[i%2]
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+lookupPath, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		got = append(got, send(hc, req).status)
	}
	r.check(t, "a key's quota is shared: 3 per minute over both APIs", fmt.Sprint(got) == "[200 200 200 429 429]",
		"statuses alternating between the APIs: %v", got)

	user, password := "replicas@example.com", "replicas-only-password"
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), "createsuperuser", "--username", user)
	cmd.Env, cmd.Dir, cmd.Stdin = s.env, s.dir, strings.NewReader(password+"\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("createsuperuser: %v %s", err, out)
	}
	var signIns []int
	for i := range 6 {
		base := []string{s.adminURL, s.rep.api2AdminURL}[i%2]
		pw := "a wrong guess"
		if i == 5 {
			pw = password // the right one, after five failures
		}
		signIns = append(signIns, signIn(t, base, user, pw))
	}
	r.check(t, "sign-in failures lock the user out on both APIs", fmt.Sprint(signIns) == "[401 401 401 401 401 429]",
		"five wrong passwords alternating between the APIs, then the right one: %v", signIns)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// signIn posts the admin sign-in form, as a browser does (the page's
// CSRF cookie and token), and returns the status.
func signIn(t *testing.T, base, user, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := get(context.Background(), hc, base+"/admin/login")
	m := csrfField.FindSubmatch(page.body)
	if page.status != 200 || m == nil {
		t.Fatalf("sign-in page: %d", page.status)
	}
	resp, err := hc.PostForm(base+"/admin/login", url.Values{"csrf": {string(m[1])}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// expReplicasSealing: seal runs started at the same moment by two
// schedulers' worth of triggers, on two workers, make one chain: every
// row in exactly one seal, the chain verifies.
func expReplicasSealing(t *testing.T, s *stack, r *reporter) {
	s.startReplicas(t)
	ctx := context.Background()
	hc := httpClient(10 * time.Second)
	for range 10 {
		convert(ctx, hc, s.apiURL, "")
		convert(ctx, hc, s.rep.api2URL, "")
	}
	var wg sync.WaitGroup
	results := make([]flow.SealAuditResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("faults-%s-%d", r.name, i), TaskQueue: auditQueue}, flow.SealAuditLogName)
			if err == nil {
				sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				err = run.Get(sctx, &results[i])
				cancel()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	sealed := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("seal %d: %v", i, errs[i])
		}
		if results[i].Sealed {
			sealed++
		}
	}
	// Seals cover windows of transaction ids: no two windows overlap, and
	// the rows they count are the rows inside them, each once.
	overlaps := s.count(ctx, `SELECT count(*) FROM audit_seals a JOIN audit_seals b ON a.id < b.id AND a.xmin_to > b.xmin_from AND b.xmin_to > a.xmin_from`)
	counted := s.count(ctx, `SELECT coalesce(sum(row_count), 0) FROM audit_seals`)
	inside := s.count(ctx, `SELECT count(*) FROM conversion_audits c WHERE EXISTS (SELECT 1 FROM audit_seals s WHERE c.xact_id >= s.xmin_from AND c.xact_id < s.xmin_to)`)
	r.check(t, "four seal runs at once on two workers: one chain, every row in one seal", overlaps == 0 && sealed >= 1 && counted == inside,
		"%d of 4 runs sealed, the others found nothing new; %d overlapping windows; seals count %d rows, %d rows lie inside them", sealed, overlaps, counted, inside)
	// Rows for the end state's own seal.
	for range 3 {
		convert(ctx, hc, s.apiURL, "")
	}
}

// expReplicasWorkerKilled: the worker running an ingestion's insert is
// killed (kill -9); the other worker finishes the run, no new worker.
func expReplicasWorkerKilled(t *testing.T, s *stack, r *reporter) {
	s.startReplicas(t)
	ctx := context.Background()
	run, inside, holder, unlock := s.insertBlocked(t, "faults-"+r.name)
	victim, survivor := s.worker, s.rep.worker2
	if strings.HasPrefix(holder, fmt.Sprintf("%d@", s.rep.worker2.pid())) {
		victim, survivor = s.rep.worker2, s.worker
	}
	victim.kill()
	unlock()
	r.check(t, "the worker inside InsertRates is killed (kill -9)", inside && strings.HasPrefix(holder, fmt.Sprintf("%d@", victim.pid())),
		"%s held the insert and was killed", holder)
	var res flow.IngestResult
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	began := time.Now()
	err := run.Get(wctx, &res)
	day := s.count(ctx, "SELECT count(*) FROM exchange_rates WHERE provider = 'ecb' AND as_of::date = CAST(? AS date)", s.provider.date())
	r.check(t, "the other worker finishes the run, the day stored once",
		err == nil && survivor.running() && res.Fetched > 0 && day == res.Fetched && s.duplicates(ctx) == 0,
		"after %s (the insert's 30 s start-to-close): err %v; %d rows of %s; %d duplicates",
		time.Since(began).Round(time.Second), err, day, s.provider.date(), s.duplicates(ctx))
	// The stack's own worker goes on as the one worker for what follows.
	if victim == s.worker {
		s.worker, s.rep.worker2 = survivor, &proc{}
	}
}
