# OneMap: two commands on a fresh Debian or Ubuntu machine.
#   make run    provision PostgreSQL + PostGIS, seed the demo county, serve http://127.0.0.1:8080
#   make test   the same provisioning, then every test (Go, PostGIS, headless Chromium)
SHELL := /bin/bash
GO    ?= go
BIN   := bin/onemap
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/onemapgis/onemap.Version=$(VERSION)

.PHONY: run test bench build frontend e2e vet db db-stop clean fuzz outage

## build: the onemap binary (the web client in frontend/dist is embedded)
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/onemap

## run: the platform with the demo county at http://127.0.0.1:8080
run: build
	@if [ -z "$$ONEMAP_DATABASE_URL" ]; then exports=$$(scripts/db.sh) || exit 1; eval "$$exports"; fi; \
	export ONEMAP_ANONYMOUS_ROLE=$${ONEMAP_ANONYMOUS_ROLE:-commander}; \
	exec ./$(BIN) serve --seed-demo --demo-accounts --simulate

## test: every test, against a real PostGIS and a real Chromium
test:
	scripts/test.sh

## fuzz: every fuzz target for FUZZTIME each (default 10s), e.g. make fuzz FUZZTIME=1m
fuzz:
	@if [ -z "$$ONEMAP_TEST_DATABASE_URL" ]; then exports=$$(scripts/db.sh) || exit 1; eval "$$exports"; export ONEMAP_TEST_DATABASE_URL; fi; \
	FUZZTIME=$(or $(FUZZTIME),10s) scripts/fuzz.sh

## outage: stop PostgreSQL under load for OUTAGE_SECONDS (default 30) and print what the servers did (scripts/outage.sh)
outage:
	scripts/outage.sh

## bench: the tile benchmark (county tiles four ways, province scale), then the point routes and the tile tail; prints a report
bench:
	scripts/bench.sh

## soak: a steady mixed load (tiles, queries, public lookups, grid edits) for 10 minutes; prints a row a minute and
## the verdicts (memory, goroutines, latency, errors, edits in the database). Flags: make soak SOAK_FLAGS="--duration 30m"
.PHONY: soak
soak:
	scripts/bench.sh soak $(SOAK_FLAGS)

## frontend: rebuild the web client into frontend/dist (commit the result)
frontend:
	cd frontend && npm ci --no-audit --no-fund && npm run build

## vet: gofmt, go vet and staticcheck
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## db: start the private PostgreSQL + PostGIS cluster and print its URLs
db:
	scripts/db.sh

## db-stop: stop it
db-stop:
	scripts/db.sh stop

clean:
	rm -rf bin frontend/node_modules frontend/e2e/out
