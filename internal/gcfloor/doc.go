// Package gcfloor keeps the Go collector from running often while a
// process's heap is small: it raises the GC percent so that the heap
// target is at least a floor, and lets it fall back to the process's
// own percent (GOGC, 100 by default) once the live heap is large enough
// for that percent to reach the floor by itself.
//
// Why: a rayflow process starts with a few MB of live heap, and Go's
// default target (twice the live heap, at least 4 MB) then makes the
// first bursts of work (the first fused chain of 1,000 calls on a node,
// issue 10) run through several collections on a machine of two cores:
// measured on a head and two nodes, the single fused chain took 9.9–15.3
// ms with the default and 5.0–7.9 ms without collections (BENCHMARKS.md,
// 2026-12-07 19:30–20:30). The floor costs at most Floor bytes of heap
// that a collection would have freed, and nothing once the live heap is
// Floor/2 or more.
//
// Threading: Start is called once, by the process's main, before the
// work starts (a test may call it again: the floor before is stopped
// first, and stopRunning ends it); the floor then re-adjusts itself
// after each collection (a cleanup run by the runtime, under the
// floor's lock) and owns the GC percent from then on:
// nothing else in the process may set it (the soft memory limit,
// runtime/debug.SetMemoryLimit, is separate and still caps the heap).
package gcfloor
