# shellcheck shell=bash
# Shared by scripts/up.sh (make up) and scripts/test.sh (make test): find or
# start PostgreSQL, Redis and the Temporal dev server. Everything this file
# starts is recorded in STARTED_PIDS and stopped by stop_started.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${CES_DATA_DIR:-$ROOT/.data}
BIN=$ROOT/bin
TEMPORAL_CLI_VERSION=v1.5.1
PROMTOOL_VERSION=v0.316.0
SEARCH_ATTRIBUTES=(--search-attribute FxProvider=Keyword --search-attribute RatesInserted=Int --search-attribute RatesQuarantined=Int)
STARTED_PIDS=()

say() { printf '[ces] %s\n' "$*" >&2; }
die() { printf '[ces] error: %s\n' "$*" >&2; exit 1; }

stop_started() {
	local pid
	for pid in "${STARTED_PIDS[@]:-}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${STARTED_PIDS[@]:-}"; do
		[ -n "$pid" ] || continue
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	if [ -n "${PG_STARTED_DIR:-}" ]; then
		as_pg_user "$PG_BIN/pg_ctl" -D "$PG_STARTED_DIR" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# port_open HOST PORT: is something listening?
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

free_port() {
	python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local secs=$1 what=$2; shift 2
	local i
	for i in $(seq 1 $((secs * 10))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	die "$what did not come up within ${secs}s"
}

need_go() {
	command -v go >/dev/null 2>&1 || die "Go is not installed (https://go.dev/dl); CES needs Go 1.26"
}

ensure_temporal_cli() {
	if [ -x "$BIN/temporal" ]; then return; fi
	need_go
	say "building the Temporal CLI $TEMPORAL_CLI_VERSION into bin/ (first time only, several minutes)"
	mkdir -p "$BIN"
	GOBIN=$BIN GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
}

# ensure_promtool builds Prometheus's promtool into bin/, which checks and
# unit-tests deploy/prometheus's alerting rules (make test).
ensure_promtool() {
	if [ -x "$BIN/promtool" ]; then return; fi
	need_go
	say "building promtool $PROMTOOL_VERSION into bin/ (first time only, a few minutes)"
	mkdir -p "$BIN"
	GOBIN=$BIN GOFLAGS=-mod=mod go install "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
}

# ensure_jaeger builds Jaeger's all-in-one (v2, the version tools/jaeger/go.mod
# pins) into bin/, which the tracing integration test sends traces to and
# reads them back from. Jaeger's go.mod has a replace directive, so go install
# refuses it: tools/jaeger is a module of its own that repeats the replace
# and builds it as a tool, keeping Jaeger's dependencies out of CES's go.mod.
ensure_jaeger() {
	if [ -x "$BIN/jaeger" ]; then return; fi
	need_go
	say "building Jaeger (tools/jaeger) into bin/ (first time only, several minutes)"
	mkdir -p "$BIN"
	(cd "$ROOT/tools/jaeger" && go build -o "$BIN/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
}

# start_temporal PORT UI_PORT [DB_FILE]: UI_PORT "none" runs headless; no DB_FILE keeps state in memory.
start_temporal() {
	local port=$1 ui=$2 dbfile=${3:-}
	local args=(server start-dev --ip 127.0.0.1 --port "$port" --log-level warn "${SEARCH_ATTRIBUTES[@]}")
	if [ "$ui" = none ]; then args+=(--headless); else args+=(--ui-port "$ui"); fi
	if [ -n "$dbfile" ]; then args+=(--db-filename "$dbfile"); fi
	mkdir -p "$DATA"
	"$BIN/temporal" "${args[@]}" >>"$DATA/temporal-$port.log" 2>&1 &
	STARTED_PIDS+=($!)
	wait_for 60 "Temporal dev server on 127.0.0.1:$port" \
		"$BIN/temporal" operator cluster health --address "127.0.0.1:$port"
	# The default namespace appears a moment after the frontend answers.
	wait_for 30 "Temporal default namespace" \
		"$BIN/temporal" operator namespace describe --address "127.0.0.1:$port" --namespace default
}

# ensure_search_attributes ADDRESS: register CES's search attributes on a
# server that was started without them (an older make up, or one the user
# started), so workflows that set them do not fail.
ensure_search_attributes() {
	local addr=$1 kv name type have
	have=$("$BIN/temporal" operator search-attribute list --address "$addr" --namespace default 2>/dev/null || true)
	for kv in FxProvider=Keyword RatesInserted=Int RatesQuarantined=Int; do
		name=${kv%%=*}; type=${kv#*=}
		if ! grep -qw "$name" <<<"$have"; then
			say "registering the search attribute $name on $addr"
			"$BIN/temporal" operator search-attribute create --address "$addr" --namespace default --name "$name" --type "$type" >/dev/null
		fi
	done
}

url_host() { python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.hostname or "127.0.0.1")' "$1"; }
url_port() { python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p.port or sys.argv[2])' "$1" "$2"; }

as_pg_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

find_pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ]; then PG_BIN=$d; return 0; fi
	done
	if command -v initdb >/dev/null 2>&1; then PG_BIN=$(dirname "$(command -v initdb)"); return 0; fi
	return 1
}

apt_install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing $* with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
		return 0
	fi
	return 1
}

# ensure_example_tools: the README's and docs' examples call curl and jq;
# install them when missing (as root, with apt), or say which is missing.
ensure_example_tools() {
	local t missing=()
	for t in curl jq; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	apt_install "${missing[@]}" || true
	for t in "${missing[@]}"; do
		command -v "$t" >/dev/null 2>&1 || say "warning: the examples of the README and docs/ need $t: apt-get install $t"
	done
}

# ensure_postgres URL: sets PG_URL to a server that answers, starting one
# under $DATA/postgres when URL does not answer.
ensure_postgres() {
	local want=$1
	local host port
	host=$(url_host "$want"); port=$(url_port "$want" 5432)
	if port_open "$host" "$port"; then PG_URL=$want; return; fi
	find_pg_bin || apt_install postgresql >/dev/null || true
	find_pg_bin || die "PostgreSQL does not answer at $host:$port and no PostgreSQL server is installed (apt-get install postgresql, or set DATABASE_URL)"
	local dir=$DATA/postgres port2=55432
	mkdir -p "$DATA"
	if [ "$(id -u)" = 0 ]; then chown postgres "$DATA" 2>/dev/null || true; chmod 755 "$DATA"; fi
	if [ ! -s "$dir/PG_VERSION" ]; then
		say "initialising a PostgreSQL cluster in $dir"
		mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
		as_pg_user "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
	fi
	if ! port_open 127.0.0.1 $port2; then
		say "starting PostgreSQL on 127.0.0.1:$port2"
		as_pg_user "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
			-o "-p $port2 -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
		PG_STARTED_DIR=$dir
	fi
	PG_URL="postgres://postgres@127.0.0.1:$port2/postgres?sslmode=disable"
}

# ensure_redis URL: sets REDIS_URL_OK to a Redis that answers, starting one
# under $DATA when URL does not answer.
ensure_redis() {
	local want=$1
	local host port
	host=$(url_host "$want"); port=$(url_port "$want" 6379)
	if port_open "$host" "$port"; then REDIS_URL_OK=$want; return; fi
	command -v redis-server >/dev/null 2>&1 || apt_install redis-server || true
	command -v redis-server >/dev/null 2>&1 || die "Redis does not answer at $host:$port and redis-server is not installed (apt-get install redis-server, or set REDIS_URL)"
	local port2=56379
	mkdir -p "$DATA/redis"
	if ! port_open 127.0.0.1 $port2; then
		say "starting Redis on 127.0.0.1:$port2"
		redis-server --bind 127.0.0.1 --port $port2 --dir "$DATA/redis" --save "" --appendonly no >"$DATA/redis.log" 2>&1 &
		STARTED_PIDS+=($!)
		wait_for 10 "Redis on 127.0.0.1:$port2" port_open 127.0.0.1 $port2
	fi
	REDIS_URL_OK="redis://127.0.0.1:$port2/0"
}
