#!/usr/bin/env bash
# bench/serve.sh — rayflow serve's figures (issue 14), with hey, 64
# connections: a trivial method (inc(x) = x + 1) served embedded and on a
# head + 2 nodes (through the head's ingress, and through a node's, which
# calls its own replica first), against the physical limit measured
# in the same run, a plain fasthttp handler doing the same JSON decode and
# encode in process (bench/servebase), and each with one connection
# (the latency of one request alone); and batching: a method costing
# 1 ms + 10 µs per call's item, with and without max_batch=32.
# Prints one summary line per case: requests/s, p50 and p99 latency, and
# for the 64-connection cases of the trivial method the CPU time the
# serving processes (the head and both nodes, on the cluster) spent per
# 1,000 requests, and their read and write system calls per request.
# Every server is started first; then each round runs every case once,
# in order, so that the cases of one round alternate under the same
# load; with ROUNDS > 1 the last lines are each case's medians over the
# rounds.
#
#   bench/serve.sh            (needs hey: apt-get install -y hey)
#
# Environment: N (requests per case, default 20000), PORT (first of the
# ports used, default 27300), ROUNDS (default 1), RAYFLOW_BIN (a
# rayflow binary to measure instead of building this tree's).
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-20000}
PORT=${PORT:-27300}
ROUNDS=${ROUNDS:-1}
dir=$(mktemp -d /tmp/rfserve.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
if [ -n "${RAYFLOW_BIN:-}" ]; then cp "$RAYFLOW_BIN" "$dir/rf"; else go build -o "$dir/rf" ./cmd/rayflow; fi
go build -o "$dir/servebase" ./bench/servebase

cat >"$dir/inc.rayflow" <<'RF'
@serve(route="/inc", replicas=2)
@concurrency(8)
actor Inc() {
    method inc(x) { return x + 1 }
}
RF
# On the cluster: one replica on each node (@resources: none on the
# head, which has no CPUs), no autoscaling.
cat >"$dir/inc_cluster.rayflow" <<'RF'
@serve(route="/inc", replicas=2, min_replicas=2)
@resources(cpu=1)
@concurrency(8)
actor Inc() {
    method inc(x) { return x + 1 }
}
RF
cat >"$dir/cost.rayflow" <<'RF'
@serve(route="/cost", replicas=1)
actor Cost() {
    method work(x) {
        time.sleep(0.001 + 0.00001)
        return x
    }
}
RF
cat >"$dir/batched.rayflow" <<'RF'
@serve(route="/cost", replicas=1, max_batch=32, batch_wait_ms=2)
actor Cost() {
    method work(xs) {
        time.sleep(0.001 + 0.00001 * len(xs))
        return xs
    }
}
RF

# wait_http URL: until the URL answers (any status), at most 20 s.
wait_http() {
	for _ in $(seq 200); do
		if curl -s -o /dev/null -m 1 "$1"; then return 0; fi
		sleep 0.1
	done
	echo "no answer from $1" >&2
	return 1
}

# cpu_ticks PID...: the CPU time (user + system, in clock ticks) the
# processes have used so far.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}

# syscalls PID...: the read and write system calls the processes have
# made so far, "READS WRITES".
syscalls() {
	local p
	for p in "$@"; do cat "/proc/$p/io"; done | awk '/^syscr/ {r += $2} /^syscw/ {w += $2} END {print r + 0, w + 0}'
}

# measure NAME URL [N [C]]: hey with C connections (default 64); appends
# one line to $dir/results (NAME req/s p50 p99 non-200 cpu reads writes,
# "-" where not measured) and prints it; with the CPU time per 1,000
# requests and the system calls per request of the processes whose IDs
# CPU_PIDS lists (the load of a shared machine does not inflate them, as
# it does the latencies).
measure() {
	local n=${3:-$N} c=${4:-64} t0=0 io0="0 0" cpu=- rd=- wr=-
	if [ -n "${CPU_PIDS:-}" ]; then t0=$(cpu_ticks $CPU_PIDS) io0=$(syscalls $CPU_PIDS); fi
	hey -n "$n" -c "$c" -m POST -T application/json -d '[1]' "$2" >"$dir/$1.txt"
	if [ -n "${CPU_PIDS:-}" ]; then
		cpu=$(awk -v t=$(($(cpu_ticks $CPU_PIDS) - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.1f", t * 1000 / hz * 1000 / n}')
		read -r rd wr < <(echo "$io0 $(syscalls $CPU_PIDS)" | awk -v n="$n" '{printf "%.2f %.2f\n", ($3 - $1) / n, ($4 - $2) / n}')
	fi
	local rps p50 p99 errs
	rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$dir/$1.txt")
	p50=$(awk '/ 50% in/ {printf "%.2f", $3 * 1000}' "$dir/$1.txt")
	p99=$(awk '/ 99% in/ {printf "%.2f", $3 * 1000}' "$dir/$1.txt")
	errs=$(awk '/^\s+\[[0-9]+\]/ && $1 != "[200]" {s += $2} END {print s + 0}' "$dir/$1.txt")
	echo "$1 $rps $p50 $p99 $errs $cpu $rd $wr" >>"$dir/results"
	show "$1" "$rps" "$p50" "$p99" "$errs" "$cpu" "$rd" "$wr"
}

# show NAME REQS P50 P99 NON200 CPU READS WRITES: one summary line.
show() {
	local extra=""
	if [ "$6" != - ]; then extra="   cpu $6 ms/1000 req, syscalls/req r $7 w $8"; fi
	printf '%-28s %8s req/s   p50 %7s ms   p99 %7s ms   non-200 %s%s\n' "$1" "$2" "$3" "$4" "$5" "$extra"
}

# medians: each case's median over the rounds of every column of
# $dir/results.
medians() {
	local name
	for name in $(awk '!seen[$1]++ {print $1}' "$dir/results"); do
		# shellcheck disable=SC2046
		show "$name" $(awk -v name="$name" '$1 == name' "$dir/results" | awk '
			{ for (i = 2; i <= NF; i++) v[i, NR] = $i; nf = NF; n = NR }
			END {
				for (i = 2; i <= nf; i++) {
					if (v[i, 1] == "-") { printf " -"; continue }
					for (r = 1; r <= n; r++) a[r] = v[i, r] + 0
					for (r = 1; r <= n; r++) for (q = r + 1; q <= n; q++) if (a[q] < a[r]) { x = a[r]; a[r] = a[q]; a[q] = x }
					m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
					printf " %s", (i == 2 || i == 5 ? sprintf("%.0f", m) : i == 6 ? sprintf("%.1f", m) : sprintf("%.2f", m))
				}
			}')
	done
}

"$dir/servebase" -addr "127.0.0.1:$PORT" & pids+=($!)
plain=$!
wait_http "http://127.0.0.1:$PORT/inc/inc"
"$dir/rf" serve "$dir/inc.rayflow" --http-port $((PORT + 1)) >"$dir/serve.log" 2>&1 & pids+=($!)
embedded=$!
"$dir/rf" serve "$dir/cost.rayflow" --http-port $((PORT + 2)) >"$dir/cost.log" 2>&1 & pids+=($!)
"$dir/rf" serve "$dir/batched.rayflow" --http-port $((PORT + 3)) >"$dir/batched.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$((PORT + 1))/inc/inc"
wait_http "http://127.0.0.1:$((PORT + 2))/cost/work"
wait_http "http://127.0.0.1:$((PORT + 3))/cost/work"

# A head (no CPUs: every replica on a worker) and two nodes on loopback;
# the plain handler measured again just before the cluster's cases, for
# the cluster's own physical limit under the same load.
head=127.0.0.1:$((PORT + 10))
"$dir/rf" start --head --port $((PORT + 10)) --http-port 0 --cpus 0 --node-id head --data-dir "$dir/head" >"$dir/head.log" 2>&1 & pids+=($!)
cluster=$!
for _ in $(seq 100); do grep -q '^ready' "$dir/head.log" && break; sleep 0.1; done
# Node w1 also serves on a port of its own (--serve-port; the deployed
# port is the head's on this one machine), as a node's ingress does:
# its own replica first.
for i in 1 2; do
	extra=()
	if [ "$i" = 1 ]; then extra=(--serve-port $((PORT + 5))); fi
	"$dir/rf" start --address "$head" --port $((PORT + 20 + i)) --node-id "w$i" --cpus 2 --data-dir "$dir/w$i" "${extra[@]}" >"$dir/w$i.log" 2>&1 & pids+=($!)
	cluster="$cluster $!"
done
for i in 1 2; do for _ in $(seq 100); do grep -q '^ready' "$dir/w$i.log" && break; sleep 0.1; done; done
RAYFLOW_TOKEN=$(cat "$dir/head/token") "$dir/rf" serve "$dir/inc_cluster.rayflow" --address "$head" --http-port $((PORT + 4)) >/dev/null
wait_http "http://127.0.0.1:$((PORT + 4))/inc/inc"
wait_http "http://127.0.0.1:$((PORT + 5))/inc/inc"

for round in $(seq "$ROUNDS"); do
	if [ "$ROUNDS" -gt 1 ]; then echo "round $round of $ROUNDS ($(uptime | sed 's/.*load/load/'))"; fi
	CPU_PIDS=$plain measure plain_fasthttp "http://127.0.0.1:$PORT/inc/inc"
	CPU_PIDS=$embedded measure embedded "http://127.0.0.1:$((PORT + 1))/inc/inc"
	measure embedded_1_connection "http://127.0.0.1:$((PORT + 1))/inc/inc" 5000 1
	measure plain_1_connection "http://127.0.0.1:$PORT/inc/inc" 5000 1
	measure cost_1ms_unbatched "http://127.0.0.1:$((PORT + 2))/cost/work" $((N / 4))
	measure cost_1ms_max_batch_32 "http://127.0.0.1:$((PORT + 3))/cost/work"
	CPU_PIDS=$plain measure plain_fasthttp_again "http://127.0.0.1:$PORT/inc/inc"
	CPU_PIDS=$cluster measure cluster_head_2_nodes "http://127.0.0.1:$((PORT + 4))/inc/inc"
	measure cluster_1_connection "http://127.0.0.1:$((PORT + 4))/inc/inc" 5000 1
	CPU_PIDS=$cluster measure cluster_node_ingress "http://127.0.0.1:$((PORT + 5))/inc/inc"
	measure node_ingress_1_connection "http://127.0.0.1:$((PORT + 5))/inc/inc" 5000 1
done
if [ "$ROUNDS" -gt 1 ]; then
	echo "medians of $ROUNDS rounds ($(uptime | sed 's/.*load/load/'))"
	medians
fi
