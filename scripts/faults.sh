#!/usr/bin/env bash
# make faults: the fault-injection suite (internal/faults). It starts its
# own PostgreSQL cluster, Redis, Temporal dev server, stand-in provider,
# api and worker on free ports of 127.0.0.1, so it needs their programs
# but none of them running; it breaks each in turn under bounded load and
# prints `experiment | invariant | observed | ok` for every check, also
# written to .data/faults.txt; the PostgreSQL failover experiment
# (TestPostgresFailover) on a stack of its own, a primary and its
# synchronous standby, its table in .data/faults-failover.txt; and
# TestRedisClusterFailover, on a Redis Cluster of its own. Extra arguments
# go to `go test` (for one experiment: -run 'TestFaults/redis-frozen').
source "$(dirname "$0")/lib.sh"

need_go
ensure_temporal_cli
find_pg_bin || apt_install postgresql || true
find_pg_bin || die "the fault suite needs PostgreSQL's server programs (initdb, pg_ctl): apt-get install postgresql"
command -v redis-server >/dev/null 2>&1 || apt_install redis-server || true
command -v redis-server >/dev/null 2>&1 || die "the fault suite needs redis-server: apt-get install redis-server"
cd "$ROOT"
say "fault-injection suite: api, worker, Temporal, PostgreSQL, Redis and a provider broken one at a time, a PostgreSQL failover and a Redis Cluster failover (about 5 minutes)"
CES_FAULTS=1 CES_TEST_TEMPORAL_CLI=$BIN/temporal go test -count=1 -v -timeout 15m -run 'TestFaults|TestPostgresFailover|TestRedisClusterFailover' "$@" ./internal/faults/
