package testenv

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// Cluster is a PostgreSQL server of the test's own, started from the
// machine's PostgreSQL binaries: it can be stopped without touching the
// shared one, and it checks passwords (SCRAM-SHA-256 over TCP) as a real
// server does, which the shared test server (trust) does not.
type Cluster struct {
	// Port is where it listens, on 127.0.0.1.
	Port   int
	bin    string
	dir    string
	asUser *user.User // set when running as root: initdb refuses root
}

// ClusterPassword is the password of a Cluster's superuser, postgres.
const ClusterPassword = "owner-tests-only"

// NewCluster initialises and starts a Cluster; it is stopped and removed
// when the test ends. Without PostgreSQL's server binaries (initdb) the
// test is skipped, or fails under CI.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	bin := ""
	if len(bins) > 0 {
		bin = filepath.Dir(bins[len(bins)-1])
	} else if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else {
		unavailable(t, "no PostgreSQL server binaries (initdb)")
	}
	dir, err := os.MkdirTemp("", "ces-test-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{bin: bin, dir: dir, Port: FreePort(t)}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for initdb: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.asUser = u
	}
	t.Cleanup(func() {
		c.pgctl("-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	pwfile := filepath.Join(dir, "owner-password")
	if err := os.WriteFile(pwfile, []byte(ClusterPassword+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
		"--pwfile="+pwfile, "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Start(t)
	return c
}

func (c *Cluster) run(tool string, args ...string) ([]byte, error) {
	name := filepath.Join(c.bin, tool)
	if c.asUser != nil {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.run("pg_ctl", append([]string{"-D", filepath.Join(c.dir, "data")}, args...)...)
}

// Start starts the server (again, after Stop).
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.Port, c.dir)
	if out, err := c.pgctl("-l", filepath.Join(c.dir, "server.log"), "-w", "-o", opts, "start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// Stop is a fast shutdown: sessions are cut, as in a failover. It may run
// outside the test's goroutine, so it reports instead of failing.
func (c *Cluster) Stop() error {
	if out, err := c.pgctl("-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// URL is the superuser's URL of database db.
func (c *Cluster) URL(db string) string {
	return c.LoginURL("postgres", ClusterPassword, db)
}

// LoginURL is the URL of database db as login with password.
func (c *Cluster) LoginURL(login, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(login, password), Host: fmt.Sprintf("127.0.0.1:%d", c.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// FreePort returns a TCP port free on 127.0.0.1 when asked.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
