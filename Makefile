# CES: make up runs the stack, make test runs every test against real
# PostgreSQL, Redis and Temporal. Both set up what they need.
.PHONY: up test faults build lint bench api-docs

up:
	bash scripts/up.sh

test:
	bash scripts/test.sh

# make faults: the fault-injection suite alone (make test runs it too).
faults:
	bash scripts/faults.sh

build:
	go build -o bin/ ./worker ./starter ./api ./replay

lint:
	gofmt -l . | (! grep .) && go vet ./...

# make bench: CES against its floors on this machine (BENCH_QUICK=1: under a minute).
bench:
	bash scripts/bench.sh

# make api-docs: the API reference, internal/httpapi/openapi.json rendered by
# Redocly's CLI (the version scripts/test.sh lints with) into one HTML page
# that works offline: Redoc's scripts inlined (--inlineBundle, no CDN), and
# REDOCLY_TELEMETRY=off, which also stops the page reporting its readers.
API_DOCS ?= .data/api.html
api-docs:
	@mkdir -p $(dir $(API_DOCS))
	REDOCLY_TELEMETRY=off npx --yes @redocly/cli@2.77.0 build-docs internal/httpapi/openapi.json --inlineBundle -o $(API_DOCS)
