#!/usr/bin/env bash
# bench/run.sh — run rayflow's benchmarks and its peers' in one go, and
# write everything under bench/out/ (see bench/README.md). `make bench`
# calls this from the repository root.
#
# Environment:
#   RUNS        how many runs of each peer comparison; the summary takes
#               medians (default 3)
#   BENCHTIME   go test -benchtime for the Go micro-benchmarks (default 1s)
#   PEER_SCALE  multiply every Dask count by this (default 1; 0.05 for a smoke run)
#   SKIP_PEERS  set to 1 to run only the rayflow side (the summary then
#               uses the peers' files already in bench/out/, if any)
#   MILLION_N   tasks in the peak-RSS run (default 1000000)
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
RUNS=${RUNS:-3}
MILLION_N=${MILLION_N:-1000000}
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

# Each group of dask_tasks.py runs in a fresh cluster of its own (a long
# run of every group in one cluster once stopped silently after the tree
# reduction), RUNS times; the summary takes the medians.
DASK_GROUPS="throughput round_trip chain tree actor put_get"
run_dask() { # $1: output file, $2...: extra flags
	local file=$1
	shift
	: >"$file"
	for run in $(seq "$RUNS"); do
		for group in $DASK_GROUPS; do
			log "  run $run/$RUNS: $group $*"
			"$PYTHON" bench/peers/dask_tasks.py --only "$group" --scale "$PEER_SCALE" "$@" |
				sed "s/}\$/, \"run\": $run}/" | tee -a "$file" ||
				log "  dask_tasks.py --only $group $* failed (run $run)"
		done
	done
}

if [ "$SKIP_PEERS" != 1 ]; then
	log "peer: CPython evaluator speed"
	"$PYTHON" bench/peers/cpython_eval.py | tee "$OUT/cpython_eval.jsonl"

	if install_dask; then
		log "peer: Dask distributed, processes=False"
		run_dask "$OUT/dask_threads.jsonl"
		log "peer: Dask distributed, processes=True"
		run_dask "$OUT/dask_processes.jsonl" --processes
	else
		log "Dask is not available to $PYTHON and could not be installed:"
		log "  apt-get install -y python3-distributed   (then rerun; or SKIP_PEERS=1)"
		exit 1
	fi
fi

# --- rayflow: Go micro-benchmarks of the packages ---------------------------
# -run XXX runs no tests, only the benchmarks. Packages without benchmarks
# yet are harmless. The peer comparison (BenchmarkRF*) runs below, with a
# fixed number of runs, so it is skipped here, as are the cluster
# benchmarks, which run in the cluster step below.
log "rayflow: go test -bench (benchtime $BENCHTIME)"
go test -run XXX -skip '^Benchmark(RF|LineageBound|ClusterTasks|WritesReplicas)' -bench . -benchmem -benchtime "$BENCHTIME" \
	./exec ./lang ./gcs ./nodeagent/... ./stdlib | tee "$OUT/go_bench.txt" ||
	log "some Go micro-benchmarks failed (see go_bench.txt); going on"

# --- rayflow: the task, actor and object benchmarks ------------------------
# nodeagent/bench_test.go runs each pipeline of bench/rayflow/tasks.rayflow
# RUNS times on a fresh in-process cluster (timed inside the program, after
# a warm-up) and appends every run's figures to rayflow_tasks.jsonl.
log "rayflow: task/actor/object benchmarks (go test ./nodeagent -bench RF, $RUNS runs)"
: >"$OUT/rayflow_tasks.jsonl"
RF_SCALE="$PEER_SCALE" RF_BENCH_JSONL="$OUT/rayflow_tasks.jsonl" \
	go test ./nodeagent -run XXX -count 1 -benchtime "${RUNS}x" \
	-bench 'RF(TaskThroughput|RoundTrip|Chain|Tree|ActorCalls|PutGet100MB|FirstResult)$' |
	tee "$OUT/go_bench_rayflow.txt"

# `rayflow run` start-up to first result, and the peak RSS of 1,000,000
# empty tasks queued then gotten, each a whole process of the real binary.
go build -o "$OUT/rayflow" ./cmd/rayflow
log "rayflow: startup to first result (rayflow run bench/rayflow/first.rayflow)"
"$OUT/rayflow" run bench/rayflow/first.rayflow >/dev/null # warm the page cache
for run in $(seq $((RUNS > 5 ? RUNS : 5))); do
	t0=$(date +%s%N)
	"$OUT/rayflow" run bench/rayflow/first.rayflow >/dev/null
	t1=$(date +%s%N)
	printf '{"bench": "startup", "value": %s, "unit": "ms", "peer": "rayflow", "run": %d, "what": "rayflow run to first result, whole process"}\n' \
		"$(awk "BEGIN{print ($t1-$t0)/1e6}")" "$run" | tee -a "$OUT/rayflow_tasks.jsonl"
done

if [ -x /usr/bin/time ]; then
	log "rayflow: $MILLION_N empty tasks on one node, peak RSS (/usr/bin/time -v)"
	: >"$OUT/rayflow_million.txt"
	: >"$OUT/rayflow_million.jsonl"
	for run in $(seq "$RUNS"); do
		/usr/bin/time -v "$OUT/rayflow" run bench/rayflow/million.rayflow n="$MILLION_N" \
			>"$OUT/million.out" 2>"$OUT/million.time" || log "  million run $run failed"
		cat "$OUT/million.out" "$OUT/million.time" >>"$OUT/rayflow_million.txt"
		kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/million.time")
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/million.time")
		printf '{"bench": "million_tasks_peak_rss", "value": %s, "unit": "MiB", "peer": "rayflow", "run": %d, "n": %s, "wall": "%s"}\n' \
			"$(awk "BEGIN{print ${kb:-0}/1024}")" "$run" "$MILLION_N" "$wall" | tee -a "$OUT/rayflow_tasks.jsonl"
		sed 's/^{"bench":"million_tasks"/{"bench":"million_tasks_rate"/; s/}$/, "run": '"$run"'}/' "$OUT/million.out" |
			grep '^{' >>"$OUT/rayflow_million.jsonl" || true
	done
	rm -f "$OUT/million.out" "$OUT/million.time"
else
	log "no /usr/bin/time (apt-get install -y time): peak RSS not measured"
fi

# --- the cluster (issues 4 and 5): three `rayflow start` processes -------
# bench/cluster_bench.sh: a head and two nodes on loopback against Dask
# with worker processes, the lineage modes (off/stash/sync) over the
# cluster and embedded with --gcs-delay, recovery from a SIGKILLed node;
# then the Go benchmarks of the GCS replicas, the 100 MB transfer, the
# global scheduler and the lineage forwarding bound. CLUSTER=0 skips it.
if [ "${CLUSTER:-1}" != 0 ]; then
	log "rayflow: cluster benchmarks (bench/cluster_bench.sh, $RUNS runs)"
	RF="$OUT/rayflow" NO_BUILD=1 RUNS="$RUNS" SKIP_PEERS="$SKIP_PEERS" PYTHON="$PYTHON" \
		bash bench/cluster_bench.sh || log "cluster benchmarks failed (see bench/out/cluster*.jsonl)"
	log "rayflow: GCS replicas, transfer, placement, lineage bound (go test -bench)"
	{
		go test ./gcs -run XXX -count "$RUNS" -bench 'WritesReplicas' -benchtime 20000x
		go test ./nodeagent -run XXX -count "$RUNS" -bench 'Transfer100MB' -benchtime 5x
		go test ./nodeagent/placement -run XXX -count "$RUNS" -bench 'Place1000Nodes'
		go test ./nodeagent -run XXX -count "$RUNS" -bench 'LineageBound' -benchtime 3x
		go test ./nodeagent -run XXX -count "$RUNS" -bench 'ClusterTasks' -benchtime 20000x
	} 2>&1 | tee "$OUT/go_bench_cluster.txt" || log "some cluster Go benchmarks failed"
	log "rayflow: 100 MB across two processes (bench/transfer.sh)"
	RF="$OUT/rayflow" RUNS="$RUNS" bash bench/transfer.sh | tee "$OUT/transfer.jsonl" || log "transfer.sh failed"
	if [ "$SKIP_PEERS" != 1 ]; then
		log "peer: Dask, 100 MB worker to worker (dask_tasks.py --processes --only transfer)"
		for run in $(seq "$RUNS"); do
			"$PYTHON" bench/peers/dask_tasks.py --processes --only transfer |
				sed "s/}\$/, \"run\": $run}/" | tee -a "$OUT/dask_transfer.jsonl" || log "dask transfer failed"
		done
	fi
fi

# --- summary: medians and ratios ------------------------------------------
log "summary: $OUT/summary.md"
MILLION_N="$MILLION_N" "$PYTHON" - "$OUT" "$PEER_SCALE" <<'EOF' | tee "$OUT/summary.md"
import json, os, re, statistics, sys

out, scale = sys.argv[1], float(sys.argv[2])

def load(name):
    recs = {}
    path = os.path.join(out, name)
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                recs.setdefault(r["bench"], []).append(float(r["value"]))
    return recs

rf = load("rayflow_tasks.jsonl")
dt = load("dask_threads.jsonl")
dp = load("dask_processes.jsonl")

# (bench, unit, higher is better, goal)
rows = [
    ("startup", "ms", False, "< 100 ms"),
    ("first_result_after_startup", "ms", False, ""),
    ("tasks_submit_then_get", "tasks/s", True, ">= 100x Dask threads"),
    ("task_round_trip_median", "us", False, "<= 1/100 Dask threads, < 20 us"),
    ("task_round_trip_p99", "us", False, "<= 1/100 Dask threads, < 20 us"),
    ("chain_dependent_tasks", "ms", False, ""),
    ("tree_reduction", "ms", False, ""),
    ("actor_calls_sequential", "calls/s", True, ""),
    ("actor_calls_pipelined", "calls/s", True, ""),
    ("put_100mb", "ms", False, ""),
    ("get_100mb", "ms", False, ""),
    ("put_get_100mb", "ms", False, ""),
]

def med(d, k):
    xs = d.get(k)
    return (statistics.median(xs), len(xs)) if xs else (None, 0)

def fmt(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"

def ratio(r, d, higher):
    if r is None or d is None or r == 0 or d == 0:
        return "—"
    x = r / d if higher else d / r
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2f}x"

print(f"Medians (runs in parentheses); ratio = how many times better rayflow is (rate / rate, or time / time). Dask scale {scale:g}.\n")
print("| bench | unit | rayflow | Dask threads | Dask processes | vs threads | vs processes | goal |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for b, unit, higher, goal in rows:
    r, nr = med(rf, b)
    t, nt = med(dt, b)
    p, np_ = med(dp, b)
    print(f"| `{b}` | {unit} | {fmt(r)} ({nr}) | {fmt(t)} ({nt}) | {fmt(p)} ({np_}) | "
          f"{ratio(r, t, higher)} | {ratio(r, p, higher)} | {goal} |")

m, nm = med(rf, "million_tasks_peak_rss")
mn = os.environ.get("MILLION_N", "1000000")
if m is not None:
    print(f"\n{int(mn):,} empty tasks queued then gotten on one node (`rayflow run`, /usr/bin/time -v): "
          f"peak RSS {m:,.0f} MiB, median of {nm} (goal < 1024 MiB).")
mr = []
mp = os.path.join(out, "rayflow_million.jsonl")
if os.path.exists(mp):
    mr = [json.loads(l)["seconds"] for l in open(mp) if l.startswith("{")]
if mr:
    print(f"Wall time of the queue-then-get, inside the program: {statistics.median(mr):.1f} s, median of {len(mr)}.")

# evaluator against CPython
cp = load("cpython_eval.jsonl")
gb = os.path.join(out, "go_bench.txt")
ev = {}
if os.path.exists(gb):
    for line in open(gb):
        m_ = re.match(r"Benchmark(Fib27|SumLoop)-\d+\s+\d+\s+([\d.]+) ns/op", line)
        if m_:
            ev[{"Fib27": "fib_27", "SumLoop": "while_sum_10000000"}[m_.group(1)]] = float(m_.group(2)) / 1e6
if cp or ev:
    print("\n| evaluator | rayflow ms | CPython ms | CPython / rayflow |")
    print("| --- | --- | --- | --- |")
    for b in ("fib_27", "while_sum_10000000"):
        c, _ = med(cp, b)
        r = ev.get(b)
        print(f"| `{b}` | {fmt(r)} | {fmt(c)} | {ratio(r, c, False)} |")
EOF

# --- rayflow: paradigm hints with and without (issue 10) --------------------
# bench/hints.sh prints one line per program, mode and --opt (median of
# ROUNDS, ratio to --opt none); its output goes to hints.txt as it is.
log "paradigm hints (bench/hints.sh)"
ROUNDS=${HINT_ROUNDS:-5} RF="$OUT/rayflow" bench/hints.sh | tee "$OUT/hints.txt"

# --- rayflow: the Jobs API (issue 13) ---------------------------------------
log "Jobs API: submission to first task, concurrent jobs (bench/jobs.sh)"
RF="$OUT/rayflow" bench/jobs.sh | tee "$OUT/jobs.jsonl" || log "jobs.sh failed"

# --- rayflow: serving over HTTP (issue 14) -----------------------------------
if command -v hey >/dev/null; then
	log "rayflow serve against a plain fasthttp handler, batching (bench/serve.sh)"
	bash bench/serve.sh | tee "$OUT/serve.txt" || log "serve.sh failed"
else
	log "skipping bench/serve.sh: it needs hey (apt-get install -y hey)"
fi

log "results in $OUT"
ls -l "$OUT" >&2
