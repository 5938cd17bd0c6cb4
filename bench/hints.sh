#!/usr/bin/env bash
# bench/hints.sh — each paradigm hint with and without, in one run
# (issue 10): the programs in bench/rayflow/hints print their own
# elapsed time (the work, without process start), embedded and on a
# three-process cluster (bench/cluster.sh). Prints one line per program,
# mode and option: the median of ROUNDS runs.
#
#   bench/hints.sh            ROUNDS=5 by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RF=${RF:-bench/out/rayflow}
mkdir -p "$(dirname "$RF")"
go build -o "$RF" ./cmd/rayflow
export RF

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_embedded() { "$RF" run --opt "$2" "bench/rayflow/hints/$1.rayflow" | awk '/^elapsed_us/ {print $2}'; }
run_cluster() { bench/cluster.sh "bench/rayflow/hints/$1.rayflow" --opt "$2" | awk '/^elapsed_us/ {print $2}'; }

for mode in embedded cluster; do
	for pair in "chain fuse" "many batch" "many adaptive" "getloop pipeline" "reduce tree_reduce"; do
		set -- $pair
		for opt in none "$2"; do
			ms=$(for _ in $(seq "$ROUNDS"); do "run_$mode" "$1" "$opt"; done | median)
			printf '%-9s %-8s --opt %-9s %10s µs\n' "$mode" "$1" "$opt" "$ms"
		done
	done
	# reduce's baseline: the driver gets every tensor and sums them itself.
	ms=$(for _ in $(seq "$ROUNDS"); do "run_$mode" reduce_flat none; done | median)
	printf '%-9s %-8s --opt %-9s %10s µs  (get all, sum in the driver)\n' "$mode" reduce_flat none "$ms"
done
