#!/usr/bin/env bash
# bench/jobs.sh — the Jobs API's figures (issue 13): submission to first
# task running (median, p99), and 100 concurrent jobs of 100 tasks each
# against the same work as one job, on a head and two nodes on loopback
# (bench/cluster.sh). Prints one JSON line per figure.
#
#   bench/jobs.sh [jobsbench flags...]
#
# Environment: RF (the rayflow binary) and PORT as for bench/cluster.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/rfjobs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/token"
chmod 600 "$dir/token"
go build -o "$dir/jobsbench" ./bench/jobsbench
args=$(printf '%q ' "$@")
TOKEN_FILE="$dir/token" COMMAND="RAYFLOW_TOKEN=\$(cat $dir/token) $dir/jobsbench -address \$RAYFLOW_HTTP $args" \
	bash bench/cluster.sh
