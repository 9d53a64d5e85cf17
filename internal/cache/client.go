package cache

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Conn names the Redis CES talks to: one server, a cluster or the primary
// a Sentinel group manages. URL is REDIS_URL; in a cluster it lists the
// seed nodes (redis://[:pw@]host:port?addr=host:port&addr=…), under
// Sentinel the sentinels (the URL's password and database are the
// primary's). Cluster is REDIS_CLUSTER, SentinelMaster
// REDIS_SENTINEL_MASTER and SentinelPassword REDIS_SENTINEL_PASSWORD.
type Conn struct {
	URL              string
	Cluster          bool
	SentinelMaster   string
	SentinelPassword string
}

// ClusterStateReload is how often, at most, a cluster client reads which
// node serves which slots while it is in use: how long after a replica
// takes over a dead primary's slots CES still asks the dead primary.
const ClusterStateReload = time.Second

// Kind reports which of "single", "cluster" or "sentinel" c names.
func (c Conn) Kind() string {
	switch {
	case c.Cluster:
		return "cluster"
	case c.SentinelMaster != "":
		return "sentinel"
	}
	return "single"
}

// NewClient returns a go-redis client for c with explicit timeouts that
// also honour context deadlines. Errors never quote the URL, which may
// hold a password.
func NewClient(c Conn, t Timeouts) (redis.UniversalClient, error) {
	switch c.Kind() {
	case "cluster":
		if c.SentinelMaster != "" {
			return nil, errors.New("cache: REDIS_CLUSTER and REDIS_SENTINEL_MASTER exclude each other")
		}
		opts, err := redis.ParseClusterURL(c.URL)
		if err != nil {
			return nil, errors.New("cache: REDIS_URL is not a valid Redis Cluster URL (redis://[:password@]host:port?addr=host:port&addr=…)")
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = t.Dial, t.Read, t.Write
		opts.ContextTimeoutEnabled = true
		// MOVED and ASK redirections are followed whatever MaxRetries says;
		// only retries after a network error are turned off, as below.
		opts.MaxRetries = -1
		// go-redis learns of a failover from a MOVED answer, or by reading
		// the slots again; a dead primary answers nothing, so without a
		// short interval the client would keep asking it for a minute.
		opts.ClusterStateReloadInterval = ClusterStateReload
		// A command to a dead node is tried up to MaxRedirects+1 times (the
		// same node, then as routed again); each must fail at once rather
		// than after go-redis's five dials 100 ms apart, or the API's
		// lookups wait seconds before falling back to PostgreSQL.
		opts.DialerRetries = 1
		return redis.NewClusterClient(opts), nil
	case "sentinel":
		opts, err := parseSentinelURL(c.URL)
		if err != nil {
			return nil, err
		}
		opts.DialerRetries = 1 // as in a cluster: a dead primary fails at once
		opts.MasterName = c.SentinelMaster
		opts.SentinelPassword = c.SentinelPassword
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = t.Dial, t.Read, t.Write
		opts.ContextTimeoutEnabled = true
		opts.MaxRetries = -1
		return redis.NewFailoverClient(opts), nil
	}
	opts, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, errors.New("cache: REDIS_URL is not a valid Redis URL")
	}
	opts.DialTimeout = t.Dial
	opts.ReadTimeout = t.Read
	opts.WriteTimeout = t.Write
	opts.ContextTimeoutEnabled = true
	// No silent retries: callers fall back (API) or are retried by Temporal (worker).
	opts.MaxRetries = -1
	return redis.NewClient(opts), nil
}

// parseSentinelURL reads redis[s]://[[user]:password@]sentinel:port[/db]
// [?addr=sentinel:port&addr=…]: the sentinels' addresses, and the
// primary's credentials and database.
func parseSentinelURL(raw string) (*redis.FailoverOptions, error) {
	bad := errors.New("cache: REDIS_URL is not a valid Sentinel URL (redis://[:password@]sentinel:port[/db]?addr=sentinel:port&addr=…)")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Hostname() == "" {
		return nil, bad
	}
	o := &redis.FailoverOptions{}
	port := u.Port()
	if port == "" {
		port = "26379"
	}
	o.SentinelAddrs = []string{net.JoinHostPort(u.Hostname(), port)}
	for k, vs := range u.Query() {
		if k != "addr" {
			return nil, errors.New("cache: REDIS_URL under Sentinel takes no parameter but addr")
		}
		for _, a := range vs {
			if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
				return nil, bad
			}
			o.SentinelAddrs = append(o.SentinelAddrs, a)
		}
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if o.DB, err = strconv.Atoi(db); err != nil {
			return nil, bad
		}
	}
	if u.Scheme == "rediss" {
		return nil, errors.New("cache: rediss:// under Sentinel is not supported; use a stunnel or a managed service's own endpoint")
	}
	return o, nil
}
