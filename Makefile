# CES: make up runs the stack, make test runs every test against real
# PostgreSQL, Redis and Temporal. Both set up what they need.
.PHONY: up test build lint

up:
	bash scripts/up.sh

test:
	bash scripts/test.sh

build:
	go build -o bin/ ./worker ./starter ./api

lint:
	gofmt -l . | (! grep .) && go vet ./...
