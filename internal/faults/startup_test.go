package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/redis/go-redis/v9"

	"ces/internal/flow"
	"ces/internal/ingestion"
	"ces/internal/store"
	"ces/internal/testenv"
)

func newStack(t *testing.T) *stack { return newStackIn(t, "faults", false) }

// newStackIn is newStack in .data/<name>; with standby, its PostgreSQL is a
// primary with a synchronous streaming standby and every process's
// DATABASE_URL names both (see stack.loginURL).
func newStackIn(t *testing.T, name string, standby bool) *stack {
	t.Helper()
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, ".data", name)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &stack{dir: dir, bin: filepath.Join(dir, "bin")}
	build := exec.Command("go", "build", "-o", s.bin+"/", "./api", "./worker", "./starter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s.pg = testenv.NewCluster(t)
	if standby {
		s.standby = s.pg.NewStandby(t, true)
	}
	s.redis = newRedis(t, dir)
	s.temporal = newTemporal(t, dir)
	s.provider = newStandin(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if s.db, err = store.Open(ctx, s.loginURL("postgres", testenv.ClusterPassword, "postgres"), 8); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "CREATE DATABASE ces"); err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	if s.db, err = store.Open(ctx, s.loginURL("postgres", testenv.ClusterPassword, "ces"), 8); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	s.st = store.New(s.db)
	s.rdb = redis.NewClient(&redis.Options{Addr: s.redis.addr(), ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { s.rdb.Close() })

	apiPort, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	s.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	s.adminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	s.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"DATABASE_URL=" + s.loginURL("postgres", testenv.ClusterPassword, "ces"),
		"REDIS_URL=redis://" + s.redis.addr() + "/0",
		"TEMPORAL_ADDRESS=" + s.temporal.addr(),
		"FX_PROVIDERS=ecb",
		"FX_ECB_BASE_URL=" + s.provider.srv.URL,
		"FX_HTTP_TIMEOUT=3s",
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", apiPort),
		fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", adminPort),
		fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", testenv.FreePort(t)),
		"REQUEST_TIMEOUT=" + requestTimeout.String(),
		// The recording is from 2017: let conversions use it (answers
		// still say stale: true).
		"CONVERT_MAX_RATE_AGE=100000h",
		"AUDIT_ANCHOR_DIR=" + filepath.Join(dir, "audit-anchor"),
		"RATES_PUBLIC=true",
		// The load is one client far over any sane quota; quotas have
		// their own tests.
		"QUOTA_CONVERT_PER_MINUTE=0", "QUOTA_RATES_PER_MINUTE=0", "QUOTA_ANONYMOUS_PER_MINUTE=0",
	}
	s.signingKey = filepath.Join(dir, "audit-signing.key")
	if out, err := s.starter(ctx, "audit-keygen", "--out", s.signingKey); err != nil {
		t.Fatalf("starter audit-keygen: %v\n%s", err, out)
	}
	// As make up does: migrations as the owner, which also makes the
	// logins the API and the worker run as.
	if out, err := s.starter(ctx, "migrate", "CES_API_DB_PASSWORD="+loginPassword, "CES_WORKER_DB_PASSWORD="+loginPassword); err != nil {
		t.Fatalf("starter migrate: %v\n%s", err, out)
	}
	// The client the load runs as: a key with every scope, printed once.
	out, err := s.starterStdout(ctx, "apikey", "create", "--name", "fault suite")
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), "ces_") {
		t.Fatalf("starter apikey create: %v\n%s", err, out)
	}
	clientKey = strings.TrimSpace(out)
	s.worker = s.newWorker(t)
	t.Cleanup(func() { s.worker.kill() })
	s.api = s.newAPI(t)
	t.Cleanup(func() { s.api.kill() })

	s.tc, err = client.NewLazyClient(client.Options{HostPort: s.temporal.addr(), Namespace: "default", Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.tc.Close)
	// The schedule the Temporal experiment needs, every 5 s (starter
	// schedule refuses less than a minute), paused until then.
	if _, err := ingestion.EnsureSchedule(ctx, s.tc, ingestion.ScheduleOptions{Provider: "ecb", TaskQueue: taskQueue, Interval: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.schedule(ctx).Pause(ctx, client.SchedulePauseOptions{Note: "fault suite: until temporal-restart"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.ingest(ctx, "faults-first")
	if err != nil || res.Inserted == 0 {
		t.Fatalf("first ingestion: %+v, %v\nworker log:\n%s", res, err, s.worker.tail())
	}
	if !eventually(5*time.Second, func() bool { return get(ctx, http.DefaultClient, s.apiURL+lookupPath).status == 200 }) {
		t.Fatalf("no lookup answers after the first ingestion:\n%s", s.api.tail())
	}
	return s
}

func (s *stack) schedule(ctx context.Context) client.ScheduleHandle {
	return s.tc.ScheduleClient().GetHandle(ctx, ingestion.ScheduleID("ecb"))
}

func (s *stack) start(ctx context.Context, id string) (client.WorkflowRun, error) {
	return s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, WorkflowExecutionTimeout: 5 * time.Minute},
		flow.IngestRatesName, flow.IngestInput{Provider: "ecb"})
}

func (s *stack) ingest(ctx context.Context, id string) (flow.IngestResult, error) {
	var res flow.IngestResult
	run, err := s.start(ctx, id)
	if err != nil {
		return res, err
	}
	err = run.Get(ctx, &res)
	return res, err
}

// pending returns the pending activity of that type of workflow id, or nil.
func (s *stack) pending(ctx context.Context, id, activity string) *workflowpb.PendingActivityInfo {
	d, err := s.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil
	}
	for _, p := range d.GetPendingActivities() {
		if p.GetActivityType().GetName() == activity {
			return p
		}
	}
	return nil
}

// quiet drops the SDK's chatter about the server the suite keeps killing.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
