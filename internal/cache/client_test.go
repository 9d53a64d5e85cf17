package cache_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"ces/internal/cache"
)

func TestNewClientKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		conn cache.Conn
		want string // the client's type, or the error's start
	}{
		{"single", cache.Conn{URL: "redis://:s3cret@127.0.0.1:6379/0"}, "*redis.Client"},
		{"cluster", cache.Conn{URL: "redis://:s3cret@h1:7000?addr=h2:7001&addr=h3:7002", Cluster: true}, "*redis.ClusterClient"},
		{"sentinel", cache.Conn{URL: "redis://:s3cret@s1:26379/2?addr=s2:26379", SentinelMaster: "mymaster"}, "*redis.Client"},
		{"both", cache.Conn{URL: "redis://h1:7000", Cluster: true, SentinelMaster: "m"}, "cache: REDIS_CLUSTER and REDIS_SENTINEL_MASTER"},
		{"bad single", cache.Conn{URL: "http://:s3cret@h1"}, "cache: REDIS_URL is not a valid Redis URL"},
		{"bad cluster", cache.Conn{URL: "redis://:s3cret@h1:7000?nope=1", Cluster: true}, "cache: REDIS_URL is not a valid Redis Cluster URL"},
		{"bad sentinel parameter", cache.Conn{URL: "redis://:s3cret@s1:26379?password=x", SentinelMaster: "m"}, "cache: REDIS_URL under Sentinel takes no parameter"},
		{"bad sentinel address", cache.Conn{URL: "redis://:s3cret@s1:26379?addr=s2", SentinelMaster: "m"}, "cache: REDIS_URL is not a valid Sentinel URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb, err := cache.NewClient(tc.conn, cache.APITimeouts)
			if err != nil {
				if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %q, want one starting %q without the password", err, tc.want)
				}
				return
			}
			defer rdb.Close()
			var got string
			switch rdb.(type) {
			case *redis.Client:
				got = "*redis.Client"
			case *redis.ClusterClient:
				got = "*redis.ClusterClient"
			}
			if got != tc.want {
				t.Fatalf("client %T, want %s", rdb, tc.want)
			}
		})
	}
}
