#!/usr/bin/env bash
# bench/hints.sh — each paradigm hint with and without, and --opt
# adaptive, in one run (issue 10). The programs in bench/rayflow/hints
# print their own elapsed time (the work, without process start); each
# runs embedded and on a three-process cluster (bench/cluster.sh: a head
# and two nodes, one CPU each). The options of one program alternate
# round by round, so drift on a noisy machine hits them alike. Prints one
# line per program, mode and option: the median of ROUNDS runs, and its
# ratio to --opt none.
#
#   ROUNDS=5 bench/hints.sh [PROGRAM ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RF=${RF:-bench/out/rayflow}
mkdir -p "$(dirname "$RF")"
go build -o "$RF" ./cmd/rayflow
export RF

# program: the options compared (the first is the baseline)
declare -A OPTS=(
	[empty]="none adaptive"
	[roundtrip]="none adaptive"
	[chain]="none fuse adaptive"
	[many]="none batch adaptive"
	[many10]="none batch adaptive"
	[getloop]="none pipeline adaptive"
	[reduce]="none tree_reduce adaptive"
	[reduce_flat]="none"
	[es_cartpole]="none rollouts adaptive"
	[template]="none template adaptive"
)
PROGRAMS=${*:-empty roundtrip chain many many10 getloop reduce reduce_flat es_cartpole template}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_embedded() { "$RF" run --opt "$2" "bench/rayflow/hints/$1.rayflow" | awk '/^elapsed_us/ {print $2}'; }
# A cluster that fails to start (a port taken by another process) is
# started again, once.
run_cluster() {
	local us
	for _ in 1 2; do
		us=$(bench/cluster.sh "bench/rayflow/hints/$1.rayflow" --opt "$2" 2>/dev/null | awk '/^elapsed_us/ {print $2}')
		[ -n "$us" ] && { echo "$us"; return; }
		PORT=$((${PORT:-17100} + 100))
		export PORT
	done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in embedded cluster; do
	for prog in $PROGRAMS; do
		for _ in $(seq "$ROUNDS"); do
			for opt in ${OPTS[$prog]}; do
				"run_$mode" "$prog" "$opt" >>"$tmp/$mode.$prog.$opt" || true
			done
		done
		base=""
		for opt in ${OPTS[$prog]}; do
			us=$(median <"$tmp/$mode.$prog.$opt")
			[ -z "$base" ] && base=$us
			printf '%-9s %-12s --opt %-12s %10s µs  %5.2fx\n' "$mode" "$prog" "$opt" "$us" "$(echo "$base / $us" | bc -l)"
		done
	done
done
