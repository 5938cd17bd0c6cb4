// Package taskevents is the record of what tasks, method calls and actors
// did, which `rayflow list`, `rayflow summary`, the state API
// (/api/v0/...) and timelines (`rayflow run --timeline`, `rayflow
// timeline`) read: one recorder serves them all.
//
// # Where the events come from, and where they go
//
// Each process of a cluster (node, head, driver) has one Recorder. The
// task path adds an Event at each transition it already passes:
// submitted (PENDING, no node yet: on the owner), queued on a node
// (PENDING with that node), started (RUNNING), ended (FINISHED, FAILED
// with the error's kind and message, CANCELLED), a method call's end,
// an actor's start (ALIVE, with its restarts) and stop (DEAD). Adding is
// one short lock and an append to the recorder's outbox: no map, no I/O,
// no GCS write. The outbox is bounded (OutboxLimit events; past it the
// oldest are dropped, counted per job).
//
// The process's heartbeat loop (every 500 ms) takes the outbox and sends
// it, as one batch, to every head it knows (as its heartbeats go to every
// head): each head applies the batch to its Table, in memory. A Table is
// bounded per job (JobLimit tasks and as many actors; past it the oldest
// task first seen is dropped, and counted) and in jobs (MaxJobs jobs and
// MaxTasks tasks of all jobs together; past either, the job least
// recently reported is forgotten). A state query on any head is
// answered from that head's table; events already reported by a node
// that has since died stay listed. Nothing here is a Raft write: the
// table is a cache of reports, rebuilt from new reports after a head's
// restart (what a head missed while it was down it never gets).
//
// Before it answers, a head asks every live process to send its outbox
// now (the flush query), with a short deadline, so that an answer
// includes what happened up to the question, not a heartbeat ago.
//
// An embedded cluster (`rayflow run`) has no state API: it records only
// when asked for a timeline (--timeline), into an unbounded recorder
// whose events WriteTimeline applies to an unbounded table.
//
// # Ownership and threading
//
// A Recorder belongs to its process's Cluster: task paths (any
// goroutine) add; the heartbeat loop and the flush query take, under
// Recorder.mu. A Table belongs to its head's network: the connection
// goroutines that receive batches apply, queries read, under Table.mu.
// Values returned by queries are copies, the caller's own.
package taskevents
