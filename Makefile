# CES: make up runs the stack, make test runs every test against real
# PostgreSQL, Redis and Temporal. Both set up what they need.
.PHONY: up test faults build lint bench

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
