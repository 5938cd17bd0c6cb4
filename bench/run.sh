#!/usr/bin/env bash
# bench/run.sh — run rayflow's benchmarks and its peers' in one go, and
# write everything under bench/out/ (see bench/README.md). `make bench`
# calls this from the repository root.
#
# Environment:
#   BENCHTIME   go test -benchtime for the Go micro-benchmarks (default 1s)
#   PEER_SCALE  multiply every Dask count by this (default 1; 0.05 for a smoke run)
#   SKIP_PEERS  set to 1 to run only the rayflow side
#   PYTHON      the interpreter with Dask (default /usr/bin/python3: Debian's,
#               which python3-distributed installs into; a pyenv or venv
#               python3 earlier on PATH usually lacks it)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out"
BENCHTIME=${BENCHTIME:-1s}
PEER_SCALE=${PEER_SCALE:-1}
SKIP_PEERS=${SKIP_PEERS:-0}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"

log() { printf '== %s\n' "$*" >&2; }

# --- the machine, so that results can be compared ------------------------
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
	echo "go: $(go version)"
	echo "kernel: $(uname -srm)"
	echo "cpus: $(nproc)"
	grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*: /cpu: /' || true
	grep -m1 MemTotal /proc/meminfo 2>/dev/null | sed 's/^MemTotal:[[:space:]]*/memory: /' || true
	echo "python: $("$PYTHON" --version 2>&1 || echo missing)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# --- the peers: Dask distributed and CPython --------------------------------
have_dask() { "$PYTHON" -c 'import distributed, numpy' >/dev/null 2>&1; }

install_dask() {
	if have_dask; then
		return 0
	fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing python3-distributed (Debian's Dask) with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq python3-distributed >/dev/null
	elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
		log "installing python3-distributed (Debian's Dask) with sudo apt-get"
		sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-distributed >/dev/null
	fi
	have_dask
}

if [ "$SKIP_PEERS" != 1 ]; then
	log "peer: CPython evaluator speed"
	"$PYTHON" bench/peers/cpython_eval.py | tee "$OUT/cpython_eval.jsonl"

	if install_dask; then
		log "peer: Dask distributed, processes=False"
		"$PYTHON" bench/peers/dask_tasks.py --scale "$PEER_SCALE" | tee "$OUT/dask_threads.jsonl"
		log "peer: Dask distributed, processes=True"
		"$PYTHON" bench/peers/dask_tasks.py --processes --scale "$PEER_SCALE" | tee "$OUT/dask_processes.jsonl"
	else
		log "Dask is not available to $PYTHON and could not be installed:"
		log "  apt-get install -y python3-distributed   (then rerun; or SKIP_PEERS=1)"
		exit 1
	fi
fi

# --- rayflow: Go micro-benchmarks of the packages ---------------------------
# -run XXX runs no tests, only the benchmarks. Packages without benchmarks
# yet are harmless.
log "rayflow: go test -bench (benchtime $BENCHTIME)"
go test -run XXX -bench . -benchmem -benchtime "$BENCHTIME" \
	./exec ./lang ./gcs ./nodeagent/... ./stdlib | tee "$OUT/go_bench.txt"

# --- rayflow: the task, actor and object benchmarks ------------------------
# TODO(bench): rayflow side of the peer comparison. Plug in here, writing
# JSON lines with the same "bench" names and units as bench/peers/dask_tasks.py
# to "$OUT/rayflow_tasks.jsonl", and rayflow's evaluator on the programs of
# bench/peers/cpython_eval.py to "$OUT/rayflow_eval.jsonl":
#   startup, first_result_after_startup      (rayflow run, to first result)
#   tasks_submit_then_get                    (20,000 empty tasks, tasks/s)
#   task_round_trip_median / _p99            (2,000 sequential get(task()), us)
#   chain_dependent_tasks                    (1,000 tasks, ms)
#   tree_reduction                           (10,000 leaves, ms)
#   actor_calls_sequential / _pipelined      (5,000 calls, calls/s)
#   put_100mb / get_100mb / put_get_100mb    (a 100 MB tensor, ms)
#   peak RSS of 1,000,000 empty tasks queued then gotten on one node
# then a summary step that joins them with the peers' files into the
# tables of BENCHMARKS.md (ratios rayflow/dask).
log "rayflow: task/actor/object benchmarks — TODO, not measured yet"

log "results in $OUT"
ls -l "$OUT" >&2
