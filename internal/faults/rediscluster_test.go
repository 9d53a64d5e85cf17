package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ces/internal/cache"
	"ces/internal/provider/ecb"
	"ces/internal/store"
	"ces/internal/testenv"
)

// TestRedisClusterFailover runs the api binary on a Redis Cluster of
// three primaries with a replica each, and kills (kill -9) the primary
// holding the ECB's cached rates while 40 clients look rates up. Every
// lookup must be a 200 with PostgreSQL's newest rate (the documented
// fallback: lookups read PostgreSQL while Redis cannot answer), and once
// the replica has taken over the cache must hold exactly PostgreSQL's
// newest rates and answer the API again. make faults runs it
// (CES_FAULTS=1); it needs neither Temporal nor a worker: the API fills
// the cache from PostgreSQL itself.
func TestRedisClusterFailover(t *testing.T) {
	if os.Getenv("CES_FAULTS") != "1" {
		t.Skip("a fault experiment: make faults runs it (CES_FAULTS=1)")
	}
	ctx := context.Background()
	rc := testenv.NewRedisCluster(t)
	dir := t.TempDir()
	s := &stack{dir: dir, bin: filepath.Join(dir, "bin")}
	build := exec.Command("go", "build", "-o", s.bin+"/", "./api", "./starter")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s.pg = testenv.NewCluster(t)
	owner, err := store.Open(ctx, s.pg.URL("postgres"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.ExecContext(ctx, "CREATE DATABASE ces"); err != nil {
		t.Fatal(err)
	}
	owner.Close()
	apiPort, adminPort := testenv.FreePort(t), testenv.FreePort(t)
	s.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	s.adminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	s.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"DATABASE_URL=" + s.pg.URL("ces"),
		"REDIS_URL=" + rc.URL(), "REDIS_CLUSTER=true",
		"TEMPORAL_ADDRESS=127.0.0.1:1", // the API serves rates without Temporal
		"FX_PROVIDERS=ecb",
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", apiPort),
		fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", adminPort),
		"REQUEST_TIMEOUT=" + requestTimeout.String(),
		"RATE_STALE_AFTER=876000h", "RATES_PUBLIC=true",
		"QUOTA_CONVERT_PER_MINUTE=0", "QUOTA_RATES_PER_MINUTE=0", "QUOTA_ANONYMOUS_PER_MINUTE=0",
	}
	if out, err := s.starter(ctx, "migrate", "CES_API_DB_PASSWORD="+loginPassword, "CES_WORKER_DB_PASSWORD="+loginPassword); err != nil {
		t.Fatalf("starter migrate: %v\n%s", err, out)
	}
	if s.db, err = store.Open(ctx, s.pg.URL("ces"), 4); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	s.st = store.New(s.db)
	hist, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "ecb", "eurofxref-hist-90d-2017.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sets, err := ecb.Parse(ecb.Name, hist)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4; i >= 0; i-- { // the five newest days, oldest first
		if _, err := s.st.Rates.InsertRates(ctx, sets[i], store.Origin{WorkflowID: "ingest-rates/faults", RunID: "run", FetchedAt: sets[i].AsOf}); err != nil {
			t.Fatal(err)
		}
	}
	want := s.newestAsOf(ctx)

	s.api = s.newAPI(t)
	t.Cleanup(func() { s.api.kill() })
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(s.api.log)
			var errs []string
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, `"status":200`) && len(errs) < 40 {
					errs = append(errs, l)
				}
			}
			t.Logf("api log, but for 200s:\n%s", strings.Join(errs, "\n"))
		}
	}()
	rdb := rc.Client(t)
	c := cache.New(rdb, "ces:")
	// The API's first lookups miss the empty cluster and write
	// PostgreSQL's newest rates back.
	if !eventually(10*time.Second, func() bool {
		get(ctx, http.DefaultClient, s.apiURL+lookupPath)
		l, err := c.Latest(ctx, []string{ecb.Name})
		return err == nil && len(l[ecb.Name]) > 0
	}) {
		t.Fatal("the API did not fill the cluster's cache")
	}

	hc := httpClient(10 * time.Second)
	var lookups []answer
	done := make(chan struct{})
	go func() {
		defer close(done)
		lookups = s.lookupLoad(ctx, hc, 40, 50*time.Millisecond, 10*time.Second)
	}()
	time.Sleep(time.Second)
	killedAt := time.Now()
	killed := rc.KillPrimaryOf(t, "ces:latest:ecb")
	rc.WaitServedWithout(t, killed, 30*time.Second)
	tookOver := time.Since(killedAt)
	<-done
	bad, ex := checkLookups(lookups, want)
	t.Logf("killed primary %s; cluster ok again %s later; %d lookups: %s", killed, tookOver.Round(time.Millisecond), len(lookups), summary(lookups))
	if bad != 0 {
		t.Errorf("%d of %d lookups were not a 200 with PostgreSQL's newest rate (%s), e.g. %s", bad, len(lookups), want.Format(time.DateOnly), ex)
	}

	// After the takeover: the cache holds exactly PostgreSQL's newest
	// rates, and the API reads it again (its near cache re-reads Redis
	// at least once a second).
	rows, err := s.st.Rates.LatestServable(ctx, []string{ecb.Name}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	before := cacheHits(t, s)
	var got map[string][]string
	ok := eventually(10*time.Second, func() bool {
		get(ctx, hc, s.apiURL+lookupPath)
		l, err := c.Latest(ctx, []string{ecb.Name})
		if err != nil {
			return false
		}
		got = map[string][]string{}
		for _, r := range l[ecb.Name] {
			got[r.Base+"/"+r.Quote] = []string{strconv.FormatInt(r.ID, 10), r.Value.String(), r.AsOf.Format(time.RFC3339)}
		}
		if len(got) != len(rows) {
			return false
		}
		for _, r := range rows {
			g := got[r.Base+"/"+r.Quote]
			if g == nil || g[0] != strconv.FormatInt(r.ID, 10) || g[1] != r.Value.String() || g[2] != r.AsOf.Format(time.RFC3339) {
				return false
			}
		}
		return cacheHits(t, s) > before
	})
	if !ok {
		t.Fatalf("after the failover the cache does not hold PostgreSQL's %d newest rates, or the API does not read it (hits %.0f → %.0f): %v", len(rows), before, cacheHits(t, s), got)
	}
}

// cacheHits is the API's ces_rate_cache_hits_total.
func cacheHits(t *testing.T, s *stack) float64 {
	t.Helper()
	resp, err := http.Get(s.adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ces_rate_cache_hits_total") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}
