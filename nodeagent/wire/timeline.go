package wire

// QueryTimeline (job IDs) asks a node for the runs of the jobs' tasks
// and method calls it recorded, and to forget them (nodeagent/timeline.go):
// a count, then per run its name, category, node, worker + 1, ID, start
// and end (Unix nanoseconds) and whether it failed. Its value is far from
// the other queries' so that a query added elsewhere does not take it.
const QueryTimeline byte = 40
