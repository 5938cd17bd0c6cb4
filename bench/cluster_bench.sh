#!/usr/bin/env bash
# bench/cluster_bench.sh — the cluster figures of issues 4 and 5 (see
# bench/README.md): a head and two nodes as three `rayflow start`
# processes on loopback (bench/cluster.sh) against Dask with worker
# processes; the lineage modes off/stash/sync over that cluster and
# embedded with an artificial GCS delay; recovery from a SIGKILLed node.
# Writes bench/out/cluster.jsonl, bench/out/dask_cluster.jsonl and
# bench/out/cluster_summary.md. `bench/run.sh` calls it (CLUSTER=0 skips).
#
# Environment: RUNS (default 3), RF (the binary; default bench/out/rayflow,
# rebuilt), PYTHON (default /usr/bin/python3), SKIP_PEERS=1 (no Dask),
# SCALE (multiplies the counts; default 1), STEPS (default
# "dask cluster embedded recovery").
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
RUNS=${RUNS:-3}
RF=${RF:-$OUT/rayflow}
PYTHON=${PYTHON:-/usr/bin/python3}
SCALE=${SCALE:-1}
STEPS=${STEPS:-dask cluster embedded recovery}
mkdir -p "$OUT"
[ -n "${NO_BUILD:-}" ] || go build -o "$RF" ./cmd/rayflow
export RF

log() { printf '== %s\n' "$*" >&2; }
n() { awk "BEGIN{v=int($1*$SCALE); print (v<2?2:v)}"; }
tag() { # tag KEY=VALUE...: add fields to each JSON line on stdin
	local extra=""
	for kv in "$@"; do extra="$extra, \"${kv%%=*}\": \"${kv#*=}\""; done
	grep '^{' | sed "s/}\$/$extra}/"
}

has() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

if has dask && [ "${SKIP_PEERS:-0}" != 1 ]; then
	: >"$OUT/dask_cluster.jsonl"
	for run in $(seq "$RUNS"); do
		for group in throughput round_trip; do
			log "dask processes=True $group, run $run/$RUNS"
			"$PYTHON" bench/peers/dask_tasks.py --processes --only "$group" --scale "$SCALE" |
				tag run="$run" | tee -a "$OUT/dask_cluster.jsonl" || log "dask $group failed"
		done
	done
fi

if has cluster; then
	: >"$OUT/cluster.jsonl"
	# Runs interleave the modes, so each run's ratios come from one stretch
	# of machine load.
	for run in $(seq "$RUNS"); do
		for mode in off stash sync; do
			log "cluster --lineage $mode, run $run/$RUNS"
			LINEAGE=$mode PIPELINES="tput" bench/cluster.sh bench/rayflow/cluster.rayflow n="$(n 20000)" |
				tag where=cluster mode="$mode" run="$run" | tee -a "$OUT/cluster.jsonl"
			LINEAGE=$mode PIPELINES="rt waits" bench/cluster.sh bench/rayflow/cluster.rayflow n="$(n 2000)" |
				tag where=cluster mode="$mode" run="$run" | tee -a "$OUT/cluster.jsonl"
			LINEAGE=$mode PIPELINES="chain" bench/cluster.sh bench/rayflow/cluster.rayflow n="$(n 1000)" |
				tag where=cluster mode="$mode" run="$run" | tee -a "$OUT/cluster.jsonl"
			LINEAGE=$mode PIPELINES="actors" bench/cluster.sh bench/rayflow/cluster.rayflow callers=4 calls="$(n 500)" |
				tag where=cluster mode="$mode" run="$run" | tee -a "$OUT/cluster.jsonl"
		done
	done
fi

if has embedded; then
	: >"$OUT/embedded.jsonl"
	for run in $(seq "$RUNS"); do
		for delay in 0 1ms 5ms; do
			for mode in off stash sync; do
				log "embedded --lineage $mode --gcs-delay $delay, run $run/$RUNS"
				for p in rt chain waits; do
					"$RF" run bench/rayflow/cluster.rayflow -p $p --lineage $mode --gcs-delay $delay n="$(n 1000)" |
						tag where=embedded mode="$mode" delay="$delay" run="$run" | tee -a "$OUT/embedded.jsonl"
				done
				"$RF" run bench/rayflow/cluster.rayflow -p tput --lineage $mode --gcs-delay $delay n="$(n 2000)" |
					tag where=embedded mode="$mode" delay="$delay" run="$run" | tee -a "$OUT/embedded.jsonl"
				"$RF" run bench/rayflow/cluster.rayflow -p actors --lineage $mode --gcs-delay $delay calls="$(n 100)" |
					tag where=embedded mode="$mode" delay="$delay" run="$run" | tee -a "$OUT/embedded.jsonl"
			done
		done
	done
fi

if has recovery; then
	: >"$OUT/recovery.jsonl"
	# 24 tasks of 0.5 s on 3 CPUs (4 s of ideal wall time); n2 is
	# SIGKILLed 2 s after the driver starts, with the head's default
	# --dead-after (5 s) and with 1 s.
	for run in $(seq "$RUNS"); do
		log "recovery, run $run/$RUNS"
		bench/cluster.sh bench/rayflow/cluster.rayflow -p recovery n=24 secs=0.5 |
			tag case=nokill run="$run" | tee -a "$OUT/recovery.jsonl"
		KILL_AFTER=2 bench/cluster.sh bench/rayflow/cluster.rayflow -p recovery n=24 secs=0.5 2>/dev/null |
			tag case=kill_deadafter5s run="$run" | tee -a "$OUT/recovery.jsonl"
		DEAD_AFTER=1s KILL_AFTER=2 bench/cluster.sh bench/rayflow/cluster.rayflow -p recovery n=24 secs=0.5 2>/dev/null |
			tag case=kill_deadafter1s run="$run" | tee -a "$OUT/recovery.jsonl"
	done
fi

log "summary: $OUT/cluster_summary.md"
"$PYTHON" - "$OUT" <<'EOF' | tee "$OUT/cluster_summary.md"
import json, os, statistics, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.startswith("{")] if os.path.exists(p) else []
def med(recs, **kw):
    xs = [float(r["value"]) for r in recs if all(str(r.get(k)) == str(v) for k, v in kw.items())]
    return (statistics.median(xs), len(xs)) if xs else (None, 0)
def f(v):
    return "—" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.3g}")
dask, cl, em, rec = load("dask_cluster.jsonl"), load("cluster.jsonl"), load("embedded.jsonl"), load("recovery.jsonl")
if cl or dask:
    print("### Issue 4: three processes on loopback against Dask processes=True\n")
    print("| bench | unit | rayflow (stash) | Dask | ratio |\n| --- | --- | --- | --- | --- |")
    for b, u, hi in [("tasks_submit_then_get", "tasks/s", True), ("task_round_trip_median", "us", False), ("task_round_trip_p99", "us", False)]:
        r, nr = med(cl, bench=b, mode="stash"); d, nd = med(dask, bench=b)
        ratio = "—" if not r or not d else f"{(r / d if hi else d / r):,.1f}x"
        print(f"| `{b}` | {u} | {f(r)} ({nr}) | {f(d)} ({nd}) | {ratio} |")
    # per-run ratio of throughput against the median Dask
benches = [("tasks_submit_then_get", "tasks/s"), ("task_round_trip_median", "us"), ("task_round_trip_p99", "us"),
           ("chain_per_task", "us"), ("wait_rate", "waits/s"), ("wait_p50", "us"), ("wait_p99", "us"),
           ("actor_calls_multi_caller", "calls/s"), ("actor_call_p50", "us"), ("actor_call_p99", "us")]
def modes_table(recs, **kw):
    runs = sorted({r["run"] for r in recs})
    print("| bench | unit | off | stash | sync | stash/off | sync/stash |\n| --- | --- | --- | --- | --- | --- | --- |")
    for b, u in benches:
        v = {m: med(recs, bench=b, mode=m, **kw)[0] for m in ("off", "stash", "sync")}
        # ratios per run, then the median of the per-run ratios
        def rr(a, c):
            xs = []
            for run in runs:
                x, _ = med(recs, bench=b, mode=a, run=run, **kw); y, _ = med(recs, bench=b, mode=c, run=run, **kw)
                if x and y: xs.append(x / y)
            return f"{statistics.median(xs):.2f}" if xs else "—"
        print(f"| `{b}` | {u} | {f(v['off'])} | {f(v['stash'])} | {f(v['sync'])} | {rr('stash', 'off')} | {rr('sync', 'stash')} |")
if cl:
    print("\n### Issue 5: lineage modes over the three-process cluster (medians; ratios: median of per-run ratios)\n")
    modes_table(cl)
for d in ("0", "1ms", "5ms"):
    if any(r.get("delay") == d for r in em):
        print(f"\n### Issue 5: embedded `rayflow run --gcs-delay {d}`\n")
        modes_table(em, delay=d)
if rec:
    print("\n### Recovery: 24 tasks x 0.5 s on 3 CPUs, n2 SIGKILLed at 2 s\n")
    print("| case | job wall time s (median) | runs |\n| --- | --- | --- |")
    for c in ("nokill", "kill_deadafter5s", "kill_deadafter1s"):
        v, k = med(rec, bench="recovery_job", case=c)
        print(f"| {c} | {f(v)} | {k} |")
EOF
