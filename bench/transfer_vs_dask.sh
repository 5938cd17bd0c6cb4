#!/usr/bin/env bash
# bench/transfer_vs_dask.sh — 100 MB node to node, rayflow against Dask in
# the same run (issue 15): RUNS rounds, each one rayflow cluster
# (bench/transfer.sh, 5 transfers) then one Dask LocalCluster with worker
# processes (dask_tasks.py --only transfer, 5 transfers), alternating so
# that both see the same load. JSON lines on stdout, then the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$(mktemp /tmp/transfer_vs_dask.XXXXXX)
for run in $(seq "$RUNS"); do
	RUNS=1 bash bench/transfer.sh | grep transfer_node_to_node | sed "s/}\$/, \"peer\": \"rayflow\", \"run\": $run}/" | tee -a "$OUT"
	"$PYTHON" bench/peers/dask_tasks.py --processes --only transfer | grep transfer_node_to_node | sed "s/}\$/, \"run\": $run}/" | tee -a "$OUT"
done
"$PYTHON" - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for peer in ("rayflow", "dask"):
    v = sorted(r["value"] for r in rows if r.get("peer") == peer)
    if v:
        print(f"median {peer}: {statistics.median(v):.2f} GB/s over {len(v)} transfers (min {v[0]:.2f}, max {v[-1]:.2f})")
PY
rm -f "$OUT"
