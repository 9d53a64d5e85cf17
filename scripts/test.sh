#!/usr/bin/env bash
# make test: start the services the integration tests need (reusing
# PostgreSQL and Redis when they already answer), then run every test with
# the race detector, then the fault-injection suite (make faults). Extra
# arguments go to `go test` and skip the fault suite.
source "$(dirname "$0")/lib.sh"
trap stop_started EXIT INT TERM

need_go
ensure_temporal_cli
ensure_promtool
ensure_jaeger
ensure_example_tools
# The compose-file test validates docker-compose.yml with Debian's
# docker-compose; the admin console's browser test drives Debian's Chromium.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose ||
	say "docker-compose is not installed: the compose test will skip (and fail under CI)"
command -v chromium >/dev/null 2>&1 || apt_install chromium ||
	say "chromium is not installed: the browser test will skip (and fail under CI)"
# The Redis Cluster and Sentinel tests start redis-server processes of
# their own and build the cluster with redis-cli (Debian's redis-server
# brings redis-tools), whatever Redis the other tests share.
{ command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; } || apt_install redis-server ||
	say "redis-server is not installed: the Redis Cluster and Sentinel tests will skip (and fail under CI)"
ensure_postgres "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
ensure_redis "${REDIS_URL:-redis://127.0.0.1:6379/0}"
tport=$(free_port)
say "starting a Temporal dev server for the tests on 127.0.0.1:$tport (in memory, headless)"
start_temporal "$tport" none

export CES_TEST_DATABASE_URL=$PG_URL
export CES_TEST_REDIS_URL=$REDIS_URL_OK
export CES_TEST_TEMPORAL_ADDRESS=127.0.0.1:$tport
export CES_TEST_TEMPORAL_CLI=$BIN/temporal
export CES_TEST_JAEGER=$BIN/jaeger
cd "$ROOT"
# readme_test.go runs `make up`, which builds these: build them now, so
# that build is a cache hit instead of racing the test binaries' builds.
say "building worker, starter, api and replay into bin/ (the README test runs them)"
go build -o "$BIN/" ./worker ./starter ./api ./replay
say "go test -race ./... (PostgreSQL, Redis and Temporal are real)"
if [ $# -eq 0 ]; then
	# The README test (the root package) runs the offline demo, which
	# ingests and backfills every publisher: alone after the others, so
	# that its load does not starve their Temporal and database calls.
	go test -race -count=1 $(go list ./... | grep -vx ces)
	say "go test -race . (the README's examples on the offline demo)"
	go test -race -count=1 .
	set -- ./...
else
	go test -race -count=1 "$@"
fi
if [ "$*" = ./... ]; then
	# The OpenAPI document as client tooling reads it: errors fail, the
	# warnings left are about health endpoints that have no 4xx answer.
	if command -v npx >/dev/null 2>&1; then
		say "redocly lint internal/httpapi/openapi.json"
		REDOCLY_TELEMETRY=off npx --yes @redocly/cli@2.77.0 lint --format=summary internal/httpapi/openapi.json
		# The API reference page (make api-docs): built, self-contained
		# (no script from a CDN, no telemetry) and naming the operations.
		say "make api-docs: the API reference as one offline HTML page"
		api_docs="$DATA/api.html"
		rm -f "$api_docs"
		make -s -C "$ROOT" api-docs API_DOCS="$api_docs"
		# Redoc itself is about 2 MB; a page that fetches it is a tenth of that.
		[ "$(wc -c <"$api_docs")" -gt 1000000 ] || die "$api_docs is missing or too small to hold Redoc"
		! grep -Eqi '(<script[^>]+src=|(import|from)[ (]*["'"'"'`]https?:)' "$api_docs" ||
			die "$api_docs loads a script from elsewhere: it would not work offline"
		grep -Fq '"disableTelemetry":true' "$api_docs" || die "$api_docs would send Redocly telemetry"
		for op in /api/v1/convert /api/v1/quotes /api/v1/rates /healthz; do
			grep -Fq "$op" "$api_docs" || die "$api_docs does not name $op"
		done
	else
		say "npx is not installed: the OpenAPI lint and make api-docs are skipped"
	fi
	# The Helm chart, rendered for several value sets and decoded strictly
	# into the Kubernetes types, and helm lint (a module of its own).
	# The alerting rules as Prometheus loads them, and their unit tests on
	# synthetic series (each alert fires when it should, and only then).
	say "promtool check rules, promtool test rules (deploy/prometheus)"
	"$BIN/promtool" check rules "$ROOT/deploy/prometheus/ces-alerts.yml"
	(cd "$ROOT/deploy/prometheus" && "$BIN/promtool" test rules ces-alerts.test.yml)
	say "Helm chart: render, decode, lint (deploy/)"
	(cd "$ROOT/deploy" && go test -count=1 ./...)
fi
# The fault suite last and alone: its latency bound needs the machine's
# CPUs to itself, not shared with the packages above.
if [ "$*" = ./... ]; then
	bash "$ROOT/scripts/faults.sh"
fi
