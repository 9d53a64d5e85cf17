package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ces/internal/cache"
)

// redisServer is one redis-server process of a test's own.
type redisServer struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis runs redis-server with args as a child of the test, stopped
// when the test ends.
func startRedis(t testing.TB, port int, args ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "no redis-server on PATH")
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	s := &redisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("redis-server %s:\n%s", s.Addr, lastLines(out.String(), 20))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("redis-server %s exited:\n%s", s.Addr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server %s does not listen: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *redisServer) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// clusterPort returns a free port whose cluster bus port (10000 above it)
// is free too.
func clusterPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		p := FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+10000)))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port pair for a Redis Cluster node")
	return 0
}

// RedisCluster is a Redis Cluster of the test's own: three primaries with
// a replica each, on loopback ports, stopped when the test ends. Failover
// is fast (a node is judged failed after NodeTimeout).
type RedisCluster struct {
	mu    sync.Mutex
	nodes []*redisServer
}

// NodeTimeout is a RedisCluster's cluster-node-timeout.
const NodeTimeout = time.Second

// NewRedisCluster starts a RedisCluster and waits until it serves every
// slot. Without redis-server and redis-cli the test is skipped (fails
// under CI).
func NewRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		unavailable(t, "no redis-cli on PATH")
	}
	dir := t.TempDir()
	rc := &RedisCluster{}
	for i := range 6 {
		p := clusterPort(t)
		nd := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(nd, 0o700); err != nil {
			t.Fatal(err)
		}
		rc.nodes = append(rc.nodes, startRedis(t, p, "--port", strconv.Itoa(p), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(nd, "nodes.conf"),
			"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout/time.Millisecond)),
			"--dir", nd, "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
			// A replica syncs at once rather than after 5 s, so a test can
			// kill a primary as soon as the cluster is ready.
			"--repl-diskless-sync-delay", "0"))
	}
	args := []string{"--cluster", "create"}
	args = append(args, rc.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	rc.WaitOK(t, 30*time.Second)
	rc.waitReplicasSynced(t, 30*time.Second)
	return rc
}

// waitReplicasSynced waits until each of the three replicas has a live
// link to its primary: a replica that never synced cannot take over.
func (rc *RedisCluster) waitReplicasSynced(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		synced := 0
		for _, a := range rc.Addrs() {
			c := redis.NewClient(&redis.Options{Addr: a, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
			info, _ := c.Info(context.Background(), "replication").Result()
			c.Close()
			if strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") {
				synced++
			}
		}
		if synced == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 replicas synced after %s", synced, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Addrs returns every node's host:port, primaries and replicas.
func (rc *RedisCluster) Addrs() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, n := range rc.nodes {
		out = append(out, n.Addr)
	}
	return out
}

// URL returns the REDIS_URL naming the cluster (with REDIS_CLUSTER=true).
func (rc *RedisCluster) URL() string {
	addrs := rc.Addrs()
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + a
	}
	return u
}

// Conn returns what names the cluster to cache.NewClient.
func (rc *RedisCluster) Conn() cache.Conn { return cache.Conn{URL: rc.URL(), Cluster: true} }

// Client returns a cluster client with the worker's timeouts, closed when
// the test ends.
func (rc *RedisCluster) Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	rdb, err := cache.NewClient(rc.Conn(), cache.WorkerTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// WaitOK waits until every live node reports cluster_state:ok and agrees
// that every slot is served.
func (rc *RedisCluster) WaitOK(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		if last = rc.notOK(); last == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redis cluster not ready after %s: %s", within, last)
}

// live calls ask with a client of each node still running, in turn, until
// ask returns true.
func (rc *RedisCluster) live(ask func(addr string, c *redis.Client) bool) {
	rc.mu.Lock()
	nodes := append([]*redisServer(nil), rc.nodes...)
	rc.mu.Unlock()
	for _, n := range nodes {
		select {
		case <-n.done:
			continue
		default:
		}
		c := redis.NewClient(&redis.Options{Addr: n.Addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
		stop := ask(n.Addr, c)
		c.Close()
		if stop {
			return
		}
	}
}

func (rc *RedisCluster) notOK() string {
	problem := ""
	rc.live(func(addr string, c *redis.Client) bool {
		info, err := c.ClusterInfo(context.Background()).Result()
		switch {
		case err != nil:
			problem = fmt.Sprintf("%s: %v", addr, err)
		case !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384"):
			problem = addr + ": " + strings.ReplaceAll(lastLines(info, 20), "\r\n", " ")
		}
		return problem != ""
	})
	return problem
}

// WaitServedWithout waits until the live nodes report every slot served
// and none by addr (a killed primary whose replica has taken over).
func (rc *RedisCluster) WaitServedWithout(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if rc.notOK() == "" && !rc.serves(addr) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redis cluster still counts on %s, or is not ok, after %s: %s", addr, within, rc.notOK())
}

// serves reports whether a live node sees addr as a primary (or cannot
// say: a node that does not answer counts as yes).
func (rc *RedisCluster) serves(addr string) bool {
	seen := false
	rc.live(func(_ string, c *redis.Client) bool {
		shards, err := c.ClusterSlots(context.Background()).Result()
		if err != nil {
			seen = true
			return true
		}
		for _, s := range shards {
			if len(s.Nodes) > 0 && s.Nodes[0].Addr == addr {
				seen = true
				return true
			}
		}
		return false
	})
	return seen
}

// KillPrimaryOf kills (SIGKILL) the primary serving key and returns its
// address; its replica takes over after NodeTimeout, and WaitServedWithout
// waits for that.
func (rc *RedisCluster) KillPrimaryOf(t testing.TB, key string) string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: rc.Addrs()[0], MaxRetries: -1})
	defer c.Close()
	slot, err := c.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	shards, err := c.ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shards {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			addr := s.Nodes[0].Addr
			rc.mu.Lock()
			defer rc.mu.Unlock()
			for _, n := range rc.nodes {
				if n.Addr == addr {
					n.kill()
					return addr
				}
			}
			t.Fatalf("primary %s of slot %d is not one of the cluster's nodes", addr, slot)
		}
	}
	t.Fatalf("no node serves slot %d", slot)
	return ""
}

// RedisSentinel is a Sentinel-managed Redis of the test's own: a primary,
// its replica and three sentinels (quorum two) on loopback ports, stopped
// when the test ends.
type RedisSentinel struct {
	Primary, Replica *redisServer
	Sentinels        []*redisServer
}

// SentinelMaster is the name a RedisSentinel's sentinels know the primary by.
const SentinelMaster = "ces-test"

// NewRedisSentinel starts a RedisSentinel and waits until the replica has
// synced and the sentinels agree on the primary and see its replica.
func NewRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	dir := t.TempDir()
	plain := func(port int, extra ...string) *redisServer {
		nd := filepath.Join(dir, strconv.Itoa(port))
		if err := os.Mkdir(nd, 0o700); err != nil {
			t.Fatal(err)
		}
		return startRedis(t, port, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", nd,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no", "--repl-diskless-sync-delay", "0"}, extra...)...)
	}
	rs := &RedisSentinel{}
	pp := FreePort(t)
	rs.Primary = plain(pp)
	rs.Replica = plain(FreePort(t), "--replicaof", "127.0.0.1", strconv.Itoa(pp))
	for range 3 {
		p := FreePort(t)
		conf := filepath.Join(dir, "sentinel-"+strconv.Itoa(p)+".conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
			p, dir, SentinelMaster, pp, SentinelMaster, SentinelMaster, SentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		rs.Sentinels = append(rs.Sentinels, startRedis(t, p, conf, "--sentinel"))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pc := redis.NewClient(&redis.Options{Addr: rs.Primary.Addr, MaxRetries: -1})
		repl, _ := pc.Info(context.Background(), "replication").Result()
		pc.Close()
		ok := strings.Contains(repl, "state=online") // the replica has synced
		for _, s := range rs.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
			reps, err := c.Replicas(context.Background(), SentinelMaster).Result()
			sens, err2 := c.Sentinels(context.Background(), SentinelMaster).Result()
			c.Close()
			if err != nil || err2 != nil || len(reps) != 1 || len(sens) != 2 {
				ok = false
				break
			}
		}
		if ok {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatal("sentinels do not agree on the primary, its replica and each other after 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Conn returns what names the Sentinel group's primary to cache.NewClient.
func (rs *RedisSentinel) Conn() cache.Conn {
	u := "redis://" + rs.Sentinels[0].Addr + "/0"
	for i, s := range rs.Sentinels[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + s.Addr
	}
	return cache.Conn{URL: u, SentinelMaster: SentinelMaster}
}

// Client returns a client of the primary with the worker's timeouts,
// closed when the test ends.
func (rs *RedisSentinel) Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	rdb, err := cache.NewClient(rs.Conn(), cache.WorkerTimeouts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// KillPrimary kills (SIGKILL) the current primary; the sentinels promote
// the replica after about a second.
func (rs *RedisSentinel) KillPrimary() { rs.Primary.kill() }

// RedisTopology is a way of running Redis other than the shared single
// server: tests run their Redis paths against each of RedisTopologies.
type RedisTopology struct {
	Name string
	// Start starts a Redis of the test's own in this topology and returns
	// a client of it (worker timeouts, closed when the test ends) and what
	// names it to cache.NewClient.
	Start func(t testing.TB) (redis.UniversalClient, cache.Conn)
}

// RedisTopologies are a three-primary Redis Cluster and a Sentinel group.
var RedisTopologies = []RedisTopology{
	{"cluster", func(t testing.TB) (redis.UniversalClient, cache.Conn) {
		need(t, EnvRedisURL) // an integration test like the others: skipped without the test services
		rc := NewRedisCluster(t)
		return rc.Client(t), rc.Conn()
	}},
	{"sentinel", func(t testing.TB) (redis.UniversalClient, cache.Conn) {
		need(t, EnvRedisURL)
		rs := NewRedisSentinel(t)
		return rs.Client(t), rs.Conn()
	}},
}
