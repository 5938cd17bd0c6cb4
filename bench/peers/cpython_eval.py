#!/usr/bin/python3
"""Interpreter speed of CPython, the reference point for rayflow's evaluator
on the same two programs (see bench/README.md):

    fib(27), recursive                         -> one function call per step
    while i < 10_000_000: total += i; i += 1   -> a tight loop of int arithmetic

    /usr/bin/python3 bench/peers/cpython_eval.py [--repeat 3]

Each is run --repeat times; the best time is reported. Prints one JSON
object per line: {"bench": ..., "value": ..., "unit": "ms", ...}.
"""

import argparse
import json
import platform
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def sum_loop(n):
    total = 0
    i = 0
    while i < n:
        total += i
        i += 1
    return total


def best_of(repeat, fn, arg):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(arg)
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fib", type=int, default=27)
    p.add_argument("--loop", type=int, default=10_000_000)
    args = p.parse_args()

    version = platform.python_implementation() + " " + platform.python_version()
    for bench, fn, arg, want in (
        ("fib_%d" % args.fib, fib, args.fib, None),
        ("while_sum_%d" % args.loop, sum_loop, args.loop, args.loop * (args.loop - 1) // 2),
    ):
        best, times, result = best_of(args.repeat, fn, arg)
        if want is not None:
            assert result == want, (bench, result, want)
        print(json.dumps({
            "bench": bench,
            "value": round(best * 1e3, 3),
            "unit": "ms",
            "peer": "cpython",
            "version": version,
            "result": result,
            "runs_ms": [round(t * 1e3, 3) for t in times],
        }), flush=True)


if __name__ == "__main__":
    main()
