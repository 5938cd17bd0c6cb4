#!/usr/bin/python3
"""Task, actor and object benchmarks of Dask distributed, the peer rayflow
is measured against (see bench/README.md).

Runs on Debian's python3-distributed (Dask 2022.12):

    /usr/bin/python3 bench/peers/dask_tasks.py             # processes=False
    /usr/bin/python3 bench/peers/dask_tasks.py --processes # processes=True

The cluster is LocalCluster(n_workers=2, threads_per_worker=1); only its
start-up is timed as "startup"; every other measurement starts after the
cluster is up and warmed. Prints one JSON object per line:

    {"bench": "...", "value": ..., "unit": "...", "peer": "dask", ...}
"""

import argparse
import json
import statistics
import sys
import time


# No single call may take longer than this (seconds): a hang fails loudly.
CALL_TIMEOUT = 120


def emit(args, bench, value, unit, **extra):
    rec = {
        "bench": bench,
        "value": round(value, 3) if isinstance(value, float) else value,
        "unit": unit,
        "peer": "dask",
        "version": args.dask_version,
        "processes": args.processes,
    }
    rec.update(extra)
    print(json.dumps(rec), flush=True)


# Task bodies live at module level so that, with processes=True, workers
# can unpickle them by reference.
def noop(i):
    return None


def inc(x):
    return x + 1


def leaf(i):
    return i


def add(a, b):
    return a + b


class Counter:
    def __init__(self):
        self.n = 0

    def inc(self):
        self.n += 1
        return self.n


def percentile(sorted_xs, p):
    """The p-th percentile (0..100) by nearest rank of an ascending list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, int(round(p / 100.0 * len(sorted_xs) + 0.5)) - 1))
    return sorted_xs[k]


def bench_throughput(client, args):
    n = args.tasks
    t0 = time.perf_counter()
    futs = [client.submit(noop, i, pure=False) for i in range(n)]
    client.gather(futs)
    dt = time.perf_counter() - t0
    del futs
    emit(args, "tasks_submit_then_get", n / dt, "tasks/s", n=n, seconds=round(dt, 3))


def bench_round_trip(client, args):
    n = args.round_trips
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        client.submit(noop, i, pure=False).result()
        lat.append((time.perf_counter() - t0) * 1e6)
    lat.sort()
    emit(args, "task_round_trip_median", statistics.median(lat), "us", n=n)
    emit(args, "task_round_trip_p99", percentile(lat, 99), "us", n=n)


def bench_chain(client, args):
    n = args.chain
    t0 = time.perf_counter()
    f = client.submit(inc, 0, pure=False)
    for _ in range(n - 1):
        f = client.submit(inc, f, pure=False)
    v = f.result()
    dt = time.perf_counter() - t0
    assert v == n, v
    emit(args, "chain_dependent_tasks", dt * 1e3, "ms", n=n, per_task_us=round(dt / n * 1e6, 1))


def bench_tree(client, args):
    n = args.tree_leaves
    t0 = time.perf_counter()
    level = [client.submit(leaf, i, pure=False) for i in range(n)]
    while len(level) > 1:
        nxt = [client.submit(add, level[i], level[i + 1], pure=False) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    v = level[0].result()
    dt = time.perf_counter() - t0
    assert v == n * (n - 1) // 2, v
    emit(args, "tree_reduction", dt * 1e3, "ms", leaves=n, tasks=2 * n - 1)


def bench_actor(client, args):
    n = args.actor_calls
    # Keep the creation future: the handle alone does not always hold a
    # reference (with processes=False it finds no client in this thread),
    # and once the key is released the worker drops the actor and every
    # call on it hangs.
    actor_future = client.submit(Counter, actor=True)
    counter = actor_future.result()
    counter.inc().result(timeout=CALL_TIMEOUT)  # warm

    t0 = time.perf_counter()
    for _ in range(n):
        counter.inc().result(timeout=CALL_TIMEOUT)
    dt = time.perf_counter() - t0
    emit(args, "actor_calls_sequential", n / dt, "calls/s", n=n, per_call_us=round(dt / n * 1e6, 1))

    t0 = time.perf_counter()
    futs = [counter.inc() for _ in range(n)]
    results = [f.result(timeout=CALL_TIMEOUT) for f in futs]
    dt = time.perf_counter() - t0
    # Dask does not promise that pipelined calls run in the order issued.
    assert sorted(results) == list(range(n + 2, 2 * n + 2)), results[:10]
    del actor_future
    emit(args, "actor_calls_pipelined", n / dt, "calls/s", n=n, per_call_us=round(dt / n * 1e6, 1))


def bench_put_get(client, args):
    import numpy as np

    nbytes = args.object_mb * 1000 * 1000
    arr = np.random.default_rng(0).random(nbytes // 8)  # float64, like a rayflow tensor
    t0 = time.perf_counter()
    [fut] = client.scatter([arr])
    t1 = time.perf_counter()
    back = fut.result()
    t2 = time.perf_counter()
    assert back.shape == arr.shape
    emit(args, "put_100mb", (t1 - t0) * 1e3, "ms", bytes=arr.nbytes)
    emit(args, "get_100mb", (t2 - t1) * 1e3, "ms", bytes=arr.nbytes)
    emit(args, "put_get_100mb", (t2 - t0) * 1e3, "ms", bytes=arr.nbytes)


def make_array(n, i):
    import numpy as np
    return np.full(n, 1.0 + i)


def array_size(x):
    return x.size


def transfer_log(dask_worker):
    return list(dask_worker.transfer_incoming_log)


def bench_transfer(client, args):
    """A 100 MB float64 array from one worker to the other, as
    bench/rayflow/transfer.rayflow moves a tensor between rayflow nodes:
    made on worker A (waited for), then read by a task pinned on worker B.
    The time is Dask's own measure of the transfer on B (its
    transfer_incoming_log: the request to the peer until the data is
    received and deserialized). Needs --processes for a real socket."""
    from distributed import wait
    a, b = sorted(client.scheduler_info()["workers"])[:2]
    n = args.object_mb * 1000 * 1000 // 8
    seen = 0
    for i in range(args.transfer_rounds):
        f = client.submit(make_array, n, i, workers=[a], pure=False)
        wait(f)
        g = client.submit(array_size, f, workers=[b], pure=False)
        assert g.result(timeout=CALL_TIMEOUT) == n
        log = client.run(transfer_log, workers=[b])[b]
        for rec in log[seen:]:
            if rec["total"] >= n * 8:
                emit(args, "transfer_node_to_node", rec["total"] / rec["duration"] / 1e9, "GB/s",
                     seconds=round(rec["duration"], 6), round=i)
        seen = len(log)
        del f, g


BENCHES = {
    "throughput": bench_throughput,
    "round_trip": bench_round_trip,
    "chain": bench_chain,
    "tree": bench_tree,
    "actor": bench_actor,
    "put_get": bench_put_get,
    "transfer": bench_transfer,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", action="store_true",
                   help="LocalCluster(processes=True): workers in their own processes (default: threads in this process)")
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of: " + ", ".join(BENCHES))
    p.add_argument("--scale", type=float, default=1.0, help="multiply every count by this (e.g. 0.05 for a smoke test)")
    p.add_argument("--tasks", type=int, default=20_000)
    p.add_argument("--round-trips", type=int, default=2_000)
    p.add_argument("--chain", type=int, default=1_000)
    p.add_argument("--tree-leaves", type=int, default=10_000)
    p.add_argument("--actor-calls", type=int, default=5_000)
    p.add_argument("--object-mb", type=int, default=100)
    p.add_argument("--transfer-rounds", type=int, default=5)
    args = p.parse_args()
    for k in ("tasks", "round_trips", "chain", "tree_leaves", "actor_calls"):
        setattr(args, k, max(2, int(getattr(args, k) * args.scale)))

    try:
        import dask
        import distributed
        from distributed import Client, LocalCluster
    except ImportError as e:
        sys.exit("dask_tasks.py: %s; install Debian's python3-distributed "
                 "(apt-get install -y python3-distributed) and run with /usr/bin/python3" % e)
    args.dask_version = distributed.__version__

    # Keep Dask quiet and make it behave like a plain local run.
    dask.config.set({"distributed.admin.tick.limit": "1h", "logging.distributed": "error"})

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=args.processes,
                           dashboard_address=None, silence_logs=50)
    client = Client(cluster)
    client.wait_for_workers(2)
    startup = time.perf_counter() - t0
    emit(args, "startup", startup * 1e3, "ms")

    try:
        t0 = time.perf_counter()
        client.submit(noop, -1, pure=False).result()
        emit(args, "first_result_after_startup", (time.perf_counter() - t0) * 1e3, "ms")
        client.gather([client.submit(noop, -2 - i, pure=False) for i in range(200)])  # warm
        for name in args.only.split(","):
            name = name.strip()
            if name not in BENCHES:
                sys.exit("dask_tasks.py: unknown benchmark %r; known: %s" % (name, ", ".join(BENCHES)))
            BENCHES[name](client, args)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
