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
# BENCH_ONLY=store runs only the store benchmarks below; other stages go
# to the benchmark program.
program=yes
if [ -n "${BENCH_ONLY:-}" ] && [ -z "$(tr ',' '\n' <<<"$BENCH_ONLY" | grep -vx -e store -e '' || true)" ]; then
	program=
fi
# The load generator on CPU 0 and the servers on the others, so that a
# latency figure measures the server, not the scheduler juggling both.
cpus=$(nproc)
if [ -z "$program" ]; then
	say "BENCH_ONLY=store: the benchmark program is skipped"
elif [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
	export CES_BENCH_LOAD_CPUS=0 CES_BENCH_SERVER_CPUS=1-$((cpus - 1))
	taskset -c 0 "$BIN/bench"
else
	"$BIN/bench"
fi
if [ -n "${BENCH_ONLY:-}" ] && ! tr ',' '\n' <<<"$BENCH_ONLY" | grep -qx store; then
	exit 0
fi
# The audit log's store, in the same report: verify-audit over a long log
# (ten million rows; BENCH_QUICK: 100,000) against reading the same rows
# single-threaded without checking them, and conversions recorded into the
# partitioned log against the log as it was before partitioning.
rows=10000000 inserts=10000
[ -n "${BENCH_QUICK:-}" ] && rows=100000 inserts=2000
report=$ROOT/bench/results/latest.md
[ -n "${BENCH_QUICK:-}" ] && report=$ROOT/bench/results/quick.md
if [ -n "${BENCH_ONLY:-}" ]; then
	report=$ROOT/bench/results/partial.md
	[ -n "$program" ] || : >"$report"
fi
say "verify-audit over $rows audit rows; conversions into the partitioned and the unpartitioned log ($inserts a round)"
out=$(CES_TEST_DATABASE_URL=$PG_URL CES_BENCH_AUDIT_ROWS=$rows CES_BENCH_INSERT_ROWS=$inserts \
	go test -run '^$' -bench 'VerifyAudit|ConversionInsert' -benchtime 1x -timeout 80m ./internal/store | grep -E '^Benchmark')
printf '%s\n' "$out"
BENCH_OUT=$out python3 - "$report" "$rows" "$inserts" <<'PY'
import os, re, sys
report, rows, inserts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = {}
for line in os.environ["BENCH_OUT"].splitlines():
    name = line.split()[0]
    for value, unit in re.findall(r"([0-9.]+) ([A-Za-z/-]+)", line):
        m[(name.split("/")[-1].rsplit("-", 1)[0] if "/" in name else name.rsplit("-", 1)[0], unit)] = float(value)
floor = m.get(("floor-read-every-row", "rows/s"), 0)
verify = m.get(("verify-full", "rows/s"), 0)
part = m.get(("BenchmarkConversionInsert", "partitioned-rows/s"), 0)
flat = m.get(("BenchmarkConversionInsert", "unpartitioned-rows/s"), 0)
def met(ratio, target):
    return "yes" if ratio >= target else "no"
vr = verify / floor if floor else 0
ir = part / flat if flat else 0
with open(report, "a") as f:
    f.write("\n\nThe audit log's store (`go test -bench 'VerifyAudit|ConversionInsert' ./internal/store`, same run):\n\n")
    f.write("| scenario | rows | rows/s | floor | floor rows/s | ratio | target | met |\n|---|---:|---:|---|---:|---:|---|---|\n")
    f.write(f"| verify-audit --full (chain, signatures, every row's hash and figures) | {rows} | {verify:.0f} | one client reading every row, checking nothing | {floor:.0f} | {vr:.2f} | ≥0.6× the read | {met(vr, 0.6)} |\n")
    f.write(f"| conversions recorded into the partitioned log (8 writers) | {inserts} ×2 | {part:.0f} | the same into the unpartitioned log of before | {flat:.0f} | {ir:.2f} | ≥0.9× unpartitioned | {met(ir, 0.9)} |\n")
PY
tail -5 "$report"
