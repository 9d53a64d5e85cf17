#!/usr/bin/env bash
# make up: run the whole CES stack on this machine in one command. Uses
# DATABASE_URL / REDIS_URL when they answer and otherwise starts its own
# PostgreSQL and Redis under .data/; runs a persistent Temporal dev server
# (Web UI on :8233), migrates, starts worker and api, creates the schedule
# and triggers a first ingestion of every provider. Ctrl-C stops
# everything it started. OFFLINE=1 reads every keyless publisher from its
# recordings in testdata/, served by bin/replay, instead of the live ones.
source "$(dirname "$0")/lib.sh"
trap 'say "stopping"; stop_started' EXIT
trap 'exit 130' INT TERM

need_go
ensure_temporal_cli
ensure_example_tools
# Logs, the env file and the offline recordings live here, even when every
# service was already running.
mkdir -p "$DATA"

ensure_postgres "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ces?sslmode=disable}"
# Our own cluster comes with only the postgres database: create ces in it.
if [ -z "${DATABASE_URL:-}" ] || [ "$PG_URL" != "${DATABASE_URL:-}" ]; then
	admin=$PG_URL
	PG_URL=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/ces")))' "$admin")
	admin=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/postgres")))' "$admin")
	if command -v psql >/dev/null 2>&1; then
		psql -q "$admin" -tc "SELECT 1 FROM pg_database WHERE datname = 'ces'" | grep -q 1 ||
			psql -q "$admin" -c "CREATE DATABASE ces" >/dev/null
	fi
fi
ensure_redis "${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DATABASE_URL=$PG_URL REDIS_URL=$REDIS_URL_OK

# Offline only: the replay server's publishers and the variables pointing
# the adapters at it.
replay_ranges= replay_vars=()
if [ "${OFFLINE:-}" = 1 ]; then
	# bin/replay stands in for every publisher with recordings: it answers
	# the adapters' own requests from testdata/<key>/replay.json, so the
	# worker ingests through the same code as online. It prints one line
	# per publisher (key, first and last day its recordings hold), then
	# its address.
	say "building the replay server into bin/"
	(cd "$ROOT" && go build -o "$BIN/" ./replay)
	replay_out=$DATA/replay.out
	: >"$replay_out"
	"$BIN/replay" -addr 127.0.0.1:0 -dir "$ROOT/testdata" >"$replay_out" 2>>"$DATA/replay.log" &
	STARTED_PIDS+=($!)
	wait_for 10 "the replay server" grep -q '^listening on ' "$replay_out"
	replay_addr=$(sed -n 's/^listening on //p' "$replay_out")
	replay_ranges=$(grep -v '^listening on ' "$replay_out")
	while read -r key _ _; do
		v=FX_$(tr 'a-z' 'A-Z' <<<"$key")_BASE_URL
		export "$v=http://$replay_addr/$key"
		# ECB's and CBN's are written to .data/env with the others already.
		case $key in ecb | cbn) ;; *) replay_vars+=("$v") ;; esac
	done <<<"$replay_ranges"
	# Every keyless publisher (FRED too when FX_FRED_API_KEY is set: the
	# replay takes any key). Open Exchange Rates has no replay: its key is
	# dropped so it does not join and reach the network.
	export FX_PROVIDERS=keyless
	unset FX_PROVIDER FX_API_KEY
	# The recordings are months or years old (the ECB's from 2017, most
	# from 2025 and 2026): the demo serves them as current, so that the
	# default source policy (each currency's issuer first) prices every
	# answer, as it does online, rather than the newest-publication
	# fallback for stale sources; and conversions may use them.
	export RATE_STALE_AFTER=${RATE_STALE_AFTER:-100000h} CONVERT_MAX_RATE_AGE=${CONVERT_MAX_RATE_AGE:-100000h}
	# For the same reason no publisher turns silent (publisher health would
	# mark every one's rates stale); late ones are still shown.
	export PUBLISHER_SILENT_AFTER_DAYS=${PUBLISHER_SILENT_AFTER_DAYS:-0}
	say "offline: $(wc -l <<<"$replay_ranges") publishers replayed from testdata/ by bin/replay on $replay_addr"
fi
# Without FX_PROVIDERS, every keyless publisher (and each keyed one whose
# key is set) is ingested: the configuration's default.
# The demo serves rate lookups without a key; conversions always need one
# (bin/starter apikey create). RATES_PUBLIC=false requires keys for lookups too.
export RATES_PUBLIC=${RATES_PUBLIC:-true}

TPORT=${CES_TEMPORAL_PORT:-7233}
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:$TPORT}
if port_open 127.0.0.1 "$TPORT"; then
	say "a Temporal server already answers on 127.0.0.1:$TPORT; using it"
	ensure_search_attributes "127.0.0.1:$TPORT"
else
	say "starting the Temporal dev server (state in $DATA/temporal.db)"
	start_temporal "$TPORT" "${CES_TEMPORAL_UI_PORT:-8233}" "$DATA/temporal.db"
fi

say "building worker, starter and api into bin/"
(cd "$ROOT" && go build -o "$BIN/" ./worker ./starter ./api)

# The API and the worker log in as their own roles, never as the owner of
# the tables: starter migrate (run as the owner) creates the database's
# logins (ces_api_<database>, ces_worker_<database>; starter db-logins
# names them) with passwords made here once and kept in .data/db-logins
# (mode 0600), and lets only them and the owner connect to the database.
logins=$DATA/db-logins
if [ ! -s "$logins" ]; then
	(umask 077; {
		echo "CES_API_DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
		echo "CES_WORKER_DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
	} >"$logins")
fi
api_pw=$(sed -n 's/^CES_API_DB_PASSWORD=//p' "$logins")
worker_pw=$(sed -n 's/^CES_WORKER_DB_PASSWORD=//p' "$logins")
CES_API_DB_PASSWORD=$api_pw CES_WORKER_DB_PASSWORD=$worker_pw "$BIN/starter" migrate
names=$("$BIN/starter" db-logins)
api_login=$(sed -n 's/^CES_API_DB_LOGIN=//p' <<<"$names")
worker_login=$(sed -n 's/^CES_WORKER_DB_LOGIN=//p' <<<"$names")
as_login() { # as_login USER PASSWORD: DATABASE_URL with that login
	python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); h=p.hostname or ""; h="["+h+"]" if ":" in h else h
print(u.urlunparse(p._replace(netloc=u.quote(sys.argv[2],safe="")+":"+u.quote(sys.argv[3],safe="")+"@"+h+(":"+str(p.port) if p.port else ""))))' "$DATABASE_URL" "$1" "$2"
}
# Seals are signed with a key only the worker reads (made here once,
# mode 0600) and anchored in a directory PostgreSQL's logins cannot reach.
export AUDIT_ANCHOR_DIR=${AUDIT_ANCHOR_DIR:-$DATA/audit-anchor}
signing_key=${AUDIT_SIGNING_KEY_FILE:-$DATA/audit-signing.key}
"$BIN/starter" audit-keygen --out "$signing_key" --if-missing >/dev/null
AUDIT_SIGNING_KEY_FILE=$signing_key DATABASE_URL=$(as_login "$worker_login" "$worker_pw") "$BIN/worker" >>"$DATA/worker.log" 2>&1 &
STARTED_PIDS+=($!)
DATABASE_URL=$(as_login "$api_login" "$api_pw") "$BIN/api" >>"$DATA/api.log" 2>&1 &
STARTED_PIDS+=($!)
"$BIN/starter" schedule
# The providers as configured, with keyless spelled out: schedules are
# named after each.
provider_names=$("$BIN/starter" providers) || die "bin/starter providers failed: the provider configuration is wrong"
mapfile -t plist <<<"$provider_names"
providers=$(IFS=,; echo "${plist[*]}")
for p in "${plist[@]}"; do
	"$BIN/temporal" schedule trigger --address "$TEMPORAL_ADDRESS" --schedule-id "ingest-rates-$p" >/dev/null
done
if [ "${OFFLINE:-}" = 1 ]; then
	# The recordings hold more than their newest day: backfill the range
	# each manifest names, so history and at= have something to show. One
	# at a time (each is one download or a few), each bounded; a failure
	# is reported and does not stop the stack.
	say "backfilling the recorded ranges of ${#plist[@]} publishers"
	while read -r key from to; do
		[[ " ${plist[*]} " == *" $key "* ]] || continue
		timeout 120 "$BIN/starter" backfill --provider "$key" --from "$from" --to "$to" >/dev/null 2>>"$DATA/backfill.log" ||
			say "backfill of $key $from..$to failed (see $DATA/backfill.log and $DATA/worker.log)"
	done <<<"$replay_ranges"
fi
addr=${HTTP_ADDR:-127.0.0.1:8080}
# The admin console and the API's /metrics listen apart (ADMIN_ADDR).
admin_addr=${ADMIN_ADDR:-127.0.0.1:8081}
# The environment the stack runs with, for starter commands in another
# shell (mode 0600: it may hold a password).
(umask 077; {
	echo "DATABASE_URL=$DATABASE_URL"; echo "REDIS_URL=$REDIS_URL"; echo "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"
	echo "AUDIT_ANCHOR_DIR=$AUDIT_ANCHOR_DIR"
	for v in FX_PROVIDERS FX_PROVIDER FX_FILE FX_API_KEY FX_ECB_BASE_URL FX_CBN_BASE_URL FX_OPENEXCHANGERATES_BASE_URL "${replay_vars[@]}" FX_SOURCE_PRIORITY RATE_STALE_AFTER CONVERT_MAX_RATE_AGE PUBLISHER_SILENT_AFTER_DAYS RATES_PUBLIC; do
		[ -n "${!v:-}" ] && echo "$v=${!v}"
	done
} >"$DATA/env")
wait_for 20 "the API on $addr" curl -fsS "http://$addr/healthz"

cat <<INFO

CES is running (providers: $providers). Ctrl-C stops everything started here.
  API             http://$addr/api/v1/rates?from=USD&to=NGN
  readiness       http://$addr/readyz
  metrics         http://$admin_addr/metrics (api), http://${METRICS_ADDR:-127.0.0.1:9091}/metrics (worker)
  admin console   http://$admin_addr/admin/
                  first create a user: bin/starter createsuperuser --username you
  API keys        conversions need one: bin/starter apikey create --name you
  Temporal UI     http://127.0.0.1:${CES_TEMPORAL_UI_PORT:-8233}/namespaces/default/schedules
  logs            .data/worker.log, .data/api.log
  CLI             bin/temporal workflow list --query "WorkflowType='IngestRates'"

INFO
wait
