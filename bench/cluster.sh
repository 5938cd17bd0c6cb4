#!/usr/bin/env bash
# bench/cluster.sh — run a rayflow program as a driver against a real
# three-process cluster on loopback: a head and two nodes, each a
# `rayflow start` process with --cpus 1 (issues 4 and 5, bench/README.md).
#
#   bench/cluster.sh FILE [rayflow run arguments...]
#
# Environment:
#   RF          the rayflow binary (default bench/out/rayflow, built if missing)
#   LINEAGE     stash|sync|off, given to all four processes (default stash)
#   PORT        the head's port; its GCS uses the next ports (one per shard),
#               the nodes PORT+20 and PORT+30 (default 17100)
#   CPUS        CPUs per process (default 1)
#   DEAD_AFTER  the head's --dead-after (default: rayflow's, 5s)
#   KILL_AFTER  if set, SIGKILL node n2 this many seconds after the driver
#               starts (the recovery benchmark); prints "killed n2 at T"
#   LOGDIR      where the three processes' output goes (default a temp dir)
#   TLS_DIR     if set, every process runs with mutual TLS (--tls-cert,
#               --tls-key, --tls-ca) with certificates in this directory:
#               ca.pem, NAME.pem and NAME-key.pem for head, n1, n2 and
#               driver, made there by `go run ./bench/tlscerts` if ca.pem
#               is missing
#   PIPELINES   if set, run FILE once per pipeline named here (space
#               separated, `-p NAME`) against the same cluster, one driver
#               process after the other
#   HTTP_PORT   the head's --http-port (default PORT+40)
#   TOKEN_FILE  if set, every process takes the cluster token from it
#               (--token-file); otherwise the head makes one and the others
#               find it on this machine
#   COMMAND     if set, run this shell command instead of a driver (FILE is
#               then ignored), with RAYFLOW_HTTP set to the head's HTTP API
#
# The driver's stdout is this script's stdout; the processes are stopped
# with SIGTERM (SIGKILL after 5 s) when the driver returns.
set -euo pipefail

cd "$(dirname "$0")/.."
RF=${RF:-bench/out/rayflow}
LINEAGE=${LINEAGE:-stash}
PORT=${PORT:-17100}
CPUS=${CPUS:-1}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/rfcluster.XXXXXX)}
if [ ! -x "$RF" ]; then
	mkdir -p "$(dirname "$RF")"
	go build -o "$RF" ./cmd/rayflow
fi
[ $# -ge 1 ] || [ -n "${COMMAND:-}" ] || { echo "usage: bench/cluster.sh FILE [ARGS...]" >&2; exit 2; }

# tls NAME: the TLS flags of process NAME (none without TLS_DIR).
tls() {
	[ -n "${TLS_DIR:-}" ] && echo "--tls-cert $TLS_DIR/$1.pem --tls-key $TLS_DIR/$1-key.pem --tls-ca $TLS_DIR/ca.pem"
	return 0
}
if [ -n "${TLS_DIR:-}" ] && [ ! -f "$TLS_DIR/ca.pem" ]; then
	go run ./bench/tlscerts "$TLS_DIR" head n1 n2 driver
fi

PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap stop_all EXIT

# wait_ready LOG PID: until LOG has a line beginning "ready" (30 s at most).
wait_ready() {
	for _ in $(seq 300); do
		grep -q '^ready' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { echo "process died: $(cat "$1")" >&2; return 1; }
		sleep 0.1
	done
	echo "not ready after 30 s: $(cat "$1")" >&2
	return 1
}

# Each process offers one unit of a resource of its own (head r0, n1 r1,
# n2 r2), so a program can pin a task to a process.
HTTP_PORT=${HTTP_PORT:-$((PORT + 40))}
token_flags=()
[ -n "${TOKEN_FILE:-}" ] && token_flags=(--token-file "$TOKEN_FILE")
head_flags=(--head --port "$PORT" --http-port "$HTTP_PORT" --cpus "$CPUS" --lineage "$LINEAGE" --node-id head --resources r0=1 "${token_flags[@]}")
[ -n "${DEAD_AFTER:-}" ] && head_flags+=(--dead-after "$DEAD_AFTER")
"$RF" start "${head_flags[@]}" $(tls head) >"$LOGDIR/head.log" 2>&1 &
PIDS+=($!)
wait_ready "$LOGDIR/head.log" "${PIDS[0]}"
for i in 1 2; do
	"$RF" start --address "127.0.0.1:$PORT" --port $((PORT + 10 + 10 * i)) --cpus "$CPUS" \
		--lineage "$LINEAGE" --node-id "n$i" --resources "r$i=1" "${token_flags[@]}" $(tls "n$i") >"$LOGDIR/n$i.log" 2>&1 &
	PIDS+=($!)
done
wait_ready "$LOGDIR/n1.log" "${PIDS[1]}"
wait_ready "$LOGDIR/n2.log" "${PIDS[2]}"

file=${1:-}
[ $# -ge 1 ] && shift
if [ -n "${COMMAND:-}" ]; then
	RAYFLOW_HTTP="http://127.0.0.1:$HTTP_PORT" bash -c "$COMMAND"
elif [ -n "${KILL_AFTER:-}" ]; then
	t0=$(date +%s%N)
	"$RF" run --address "127.0.0.1:$PORT" --lineage "$LINEAGE" $(tls driver) "$file" "$@" &
	driver=$!
	sleep "$KILL_AFTER"
	kill -KILL "${PIDS[2]}"
	echo "{\"bench\": \"killed_n2_at\", \"value\": $(awk "BEGIN{print ($(date +%s%N)-$t0)/1e9}"), \"unit\": \"s\"}"
	wait "$driver"
elif [ -n "${PIPELINES:-}" ]; then
	for p in $PIPELINES; do
		"$RF" run --address "127.0.0.1:$PORT" --lineage "$LINEAGE" $(tls driver) "$file" -p "$p" "$@"
	done
else
	"$RF" run --address "127.0.0.1:$PORT" --lineage "$LINEAGE" $(tls driver) "$file" "$@"
fi
