# rayflow — common tasks. `make help` lists them.

GO      ?= go
BIN     ?= bin/rayflow
# The whole suite must stay under 10 minutes on 2 cores; the timeout makes
# a hung test fail with a stack dump instead of hanging the build.
TEST_TIMEOUT ?= 9m
FUZZTIME     ?= 5m
RACE_PKGS    ?= . ./lang ./compiler ./planner/... ./frontend ./exec ./nodeagent/... ./gcs ./stdlib ./cmd/... ./internal/... ./stash ./serve/...

.PHONY: help build test race bench sim soak lint fuzz chaos clean

help:
	@echo "make build   build $(BIN)"
	@echo "make test    go vet, then every test (timeout $(TEST_TIMEOUT))"
	@echo "make race    tests of the concurrent packages under the race detector"
	@echo "make bench   benchmarks against the peers (bench/run.sh; results in bench/out/)"
	@echo "make sim     the simulated control plane: a real head, 10 to 1,000 simulated nodes, 1/4/8 GCS shards (SIM_FLAGS)"
	@echo "make soak    the long memory soak: one job of 200,000 rounds and 3,000 small jobs on a head and two nodes (SOAK_ROUNDS, SOAK_JOBS)"
	@echo "make lint    gofmt and go vet"
	@echo "make fuzz    fuzz the parser for $(FUZZTIME)"
	@echo "make chaos   chaos test: workers SIGKILLed and restarted while jobs run (RAYFLOW_CHAOS_SECONDS, default 120)"

build:
	$(GO) build -o $(BIN) ./cmd/rayflow

# -count=1: every test runs, none is taken from go's test cache. (The
# packages that run a built CLI stat its sources from a test, see
# internal/clibuild, so a cached result would still be a valid one.)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

race:
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(RACE_PKGS)

bench:
	bash bench/run.sh

# A real head with 10, 100 and 1,000 simulated nodes and 1, 4 and 8 GCS
# shards (nodeagent/sim); about a minute. Ports 30000-30199.
SIM_FLAGS ?= -nodes 10,100,1000 -shards 1,4,8 -duration 3s
sim:
	$(GO) run ./bench/sim $(SIM_FLAGS)

lint:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz:
	$(GO) test ./lang -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

chaos:
	$(GO) test -tags chaos -run Chaos -timeout 15m -v ./cmd/rayflow/

clean:
	rm -rf bin bench/out

# The long soak of issue 15: a head and two nodes run one job of 200,000
# rounds that each get a 160 KB result, then 3,000 small jobs; every
# process's resident memory stays flat after warm-up (the first third of
# the samples). The warm-up fills the bounded caches: each process's
# lineage stash remembers 65,536 committed task IDs (stash.CommittedCap),
# which 100,000 rounds would still be filling in their middle third, and
# the heads' task-event tables keep 1,000 jobs. make test runs a short
# soak (cmd/rayflow/soak_test.go).
SOAK_ROUNDS ?= 200000
SOAK_JOBS ?= 3000
soak:
	RAYFLOW_SOAK_ROUNDS=$(SOAK_ROUNDS) RAYFLOW_SOAK_JOBS=$(SOAK_JOBS) $(GO) test -count=1 -timeout 2h -run TestSoakMemoryStaysFlat -v ./cmd/rayflow
