package testenv

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StandbyName is the application_name a Cluster's standby streams as, so
// that a primary can name it in synchronous_standby_names.
const StandbyName = "ces_standby"

// NewStandby copies c with pg_basebackup into a Cluster of its own and
// starts it as a streaming standby of c; it is stopped and removed when
// the test ends. With sync, c waits for the standby to flush every commit
// before answering it (synchronous_standby_names names the standby,
// synchronous_commit is on): a commit c acknowledged survives c's loss.
// The standby's own configuration does not wait for anyone, so once
// promoted it commits alone.
func (c *Cluster) NewStandby(t testing.TB, sync bool) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "ces-test-pg-standby-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Cluster{bin: c.bin, dir: dir, Port: FreePort(t), asUser: c.asUser}
	if s.asUser != nil {
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		s.pgctl("-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres password=%s application_name=%s sslmode=disable", c.Port, ClusterPassword, StandbyName)
	// -R writes standby.signal and primary_conninfo (this conninfo);
	// -X stream copies the WAL written meanwhile.
	if out, err := s.run("pg_basebackup", "-d", conninfo, "-D", filepath.Join(dir, "data"), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	s.Start(t)
	if sync {
		// Set on the primary only, after the copy: the standby, once
		// promoted, must not wait for a standby it does not have.
		for _, set := range []string{
			"ALTER SYSTEM SET synchronous_standby_names = '" + StandbyName + "'",
			"ALTER SYSTEM SET synchronous_commit = 'on'",
			"SELECT pg_reload_conf()",
		} {
			if out, err := c.Psql(set); err != nil {
				t.Fatalf("%s: %v\n%s", set, err, out)
			}
		}
	}
	// Streaming (and, with sync, synchronous) before the test writes.
	want := "streaming"
	if sync {
		want = "streaming sync"
	}
	var got string
	for range 100 {
		out, _ := c.Psql("SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '" + StandbyName + "'")
		got = strings.TrimSpace(string(out))
		if got == want || (!sync && strings.HasPrefix(got, want+" ")) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the standby is not %q on the primary (%q)", want, got)
	return nil
}

// Psql runs one statement as the superuser over the cluster's socket and
// returns its unaligned output.
func (c *Cluster) Psql(sql string) ([]byte, error) {
	return c.run("psql", "-X", "-q", "-A", "-t", "-h", c.dir, "-p", fmt.Sprint(c.Port), "-U", "postgres", "-d", "postgres", "-c", sql)
}

// Crash stops the server as a power cut would (pg_ctl stop -m immediate):
// no checkpoint, every session cut. It may run outside the test's
// goroutine, so it reports instead of failing.
func (c *Cluster) Crash() error {
	if out, err := c.pgctl("-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %v\n%s", err, out)
	}
	return nil
}

// Promote makes a standby the primary (pg_ctl promote), waiting until it
// accepts writes.
func (c *Cluster) Promote() error {
	if out, err := c.pgctl("-w", "promote"); err != nil {
		return fmt.Errorf("pg_ctl promote: %v\n%s", err, out)
	}
	return nil
}

// MultiHostURL is the URL of database db as login on every one of
// clusters, in order, with target_session_attrs=read-write: a connection
// goes to the first that accepts writes, so a pool follows the primary
// through a failover.
func MultiHostURL(login, password, db string, clusters ...*Cluster) string {
	hosts := make([]string, len(clusters))
	for i, c := range clusters {
		hosts[i] = fmt.Sprintf("127.0.0.1:%d", c.Port)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(login, password), Host: strings.Join(hosts, ","), Path: "/" + db,
		RawQuery: "sslmode=disable&target_session_attrs=read-write"}
	return u.String()
}
