#!/usr/bin/env bash
# bench/transfer.sh — a 100 MB tensor from one `rayflow start` process to
# another over loopback (issue 4; issue 15's goal: at least 3 GB/s node to
# node, never slower than Dask: bench/transfer_vs_dask.sh), RUNS clusters of
# 5 transfers each. JSON lines on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
for run in $(seq "$RUNS"); do
	bench/cluster.sh bench/rayflow/transfer.rayflow rounds=5 | grep '^{' | sed "s/}\$/, \"run\": $run}/"
done
