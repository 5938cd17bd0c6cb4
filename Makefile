# rayflow — common tasks. `make help` lists them.

GO      ?= go
BIN     ?= bin/rayflow
# The whole suite must stay under 10 minutes on 2 cores; the timeout makes
# a hung test fail with a stack dump instead of hanging the build.
TEST_TIMEOUT ?= 9m
FUZZTIME     ?= 5m
RACE_PKGS    ?= ./lang ./compiler ./exec ./nodeagent/... ./gcs ./stdlib

.PHONY: help build test race bench lint fuzz chaos clean

help:
	@echo "make build   build $(BIN)"
	@echo "make test    go vet, then every test (timeout $(TEST_TIMEOUT))"
	@echo "make race    tests of the concurrent packages under the race detector"
	@echo "make bench   benchmarks against the peers (bench/run.sh; results in bench/out/)"
	@echo "make lint    gofmt and go vet"
	@echo "make fuzz    fuzz the parser for $(FUZZTIME)"
	@echo "make chaos   fault-injection runs (not yet)"

build:
	$(GO) build -o $(BIN) ./cmd/rayflow

test:
	$(GO) vet ./...
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

race:
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

bench:
	bash bench/run.sh

lint:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz:
	$(GO) test ./lang -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

chaos:
	@echo "make chaos: not yet — fault-injection runs come with the cluster work (kill nodes, lose objects, restart actors)."

clean:
	rm -rf bin bench/out
