#!/usr/bin/env bash
# make bench: run the benchmark program against the real stack. Like make
# test it reuses PostgreSQL and Redis when they answer (Redis database 12 is
# flushed and used; the bench's world stage flushes and uses 14, its
# offline demo 13; make test's README test uses 15, so both can run at
# once) and runs a private Temporal dev server. BENCH_QUICK=1 for a short
# run.
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT INT TERM

need_go
ensure_temporal_cli
ensure_postgres "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
ensure_redis "${REDIS_URL:-redis://127.0.0.1:6379/0}"
tport=$(free_port)
start_temporal "$tport" none
cd "$ROOT"
say "building api, the floor server and the load generator"
go build -o "$BIN/" ./api
go build -o "$BIN/floor" ./bench/floor
go build -o "$BIN/bench" ./bench
export CES_BENCH_DATABASE_URL=$PG_URL
export CES_BENCH_REDIS_URL=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/12")))' "$REDIS_URL_OK")
export CES_BENCH_TEMPORAL_ADDRESS=127.0.0.1:$tport
export CES_BENCH_BIN=$BIN
# The load generator on CPU 0 and the servers on the others, so that a
# latency figure measures the server, not the scheduler juggling both.
cpus=$(nproc)
if [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
	export CES_BENCH_LOAD_CPUS=0 CES_BENCH_SERVER_CPUS=1-$((cpus - 1))
	taskset -c 0 "$BIN/bench"
else
	"$BIN/bench"
fi
# verify-audit over a long log (a million rows; BENCH_QUICK: 100,000),
# against reading the same rows without checking them.
rows=1000000
[ -n "${BENCH_QUICK:-}" ] && rows=100000
say "verify-audit over $rows audit rows"
CES_TEST_DATABASE_URL=$PG_URL CES_BENCH_AUDIT_ROWS=$rows go test -run '^$' -bench VerifyAudit -benchtime 1x -timeout 30m ./internal/store |
	grep -E '^Benchmark'
