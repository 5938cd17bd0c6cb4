// Package metrics is what a rayflow process exposes at GET /metrics, in
// the Prometheus text format (spec/cluster.md, Metrics).
//
// It owns:
//   - FuncCounts, a node's per-function task counters: the task path
//     adds to them (atomic adds after one sync.Map load), the scrape
//     reads them; at most MaxFunctions names each, the rest count as
//     "other";
//   - GCSApply, the process-wide histogram of GCS log-entry apply times,
//     which the GCS's state machine observes;
//   - Source and Handler: the other metrics are read at scrape time from
//     functions the process gives (its nodes' schedulers and stores, its
//     lineage stash, a head's membership and job leases), so nothing on
//     the task path updates them.
//
// Threading: FuncCounts and GCSApply are safe for concurrent use; a
// Source's functions are called from the scrape's goroutine, one scrape
// at a time per Handler, and must be safe to call while the process runs.
package metrics
