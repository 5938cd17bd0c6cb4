// Package taskevents is the record of what tasks, method calls and actors
// did, which `rayflow list`, `rayflow summary`, the state API
// (/api/v0/...) and timelines (`rayflow run --timeline`, `rayflow
// timeline`) read: one recorder serves them all.
//
// # Where the events come from, and where they go
//
// Each process of a cluster (node, head, driver) has one Recorder. The
// task path adds an Event at two transitions it already passes: a
// task's submission (PENDING, no node yet: on its owner) and its end
// (FINISHED, FAILED with the error's kind and message, CANCELLED, with
// when it started); a method call's end, an actor's start (ALIVE, with
// its restarts) and stop (DEAD) too. Adding is one short lock and a copy
// into the recorder's outbox, which grows by chunks that reports give
// back (no map, no I/O, no GCS write, no clock read for a submission).
// What waits in a node's queue or runs across a report is not recorded
// as it happens: the report takes it from the node's local scheduler
// (PENDING on that node; RUNNING with its start), so a task that comes
// and goes between two reports costs its submission and its end only.
// An event carries what tells whether its task's result is ready (Over,
// the result's done channel: DoneChan, never the result, so that events
// waiting for a report keep no value alive): a pending or running event
// whose task has ended by the time of the report is superseded by the
// end and is not sent. The outbox is bounded (OutboxLimit events;
// past it the oldest chunk is dropped, its tasks' events counted per job,
// submissions apart); at half its limit it asks to be reported early.
//
// The process's heartbeat loop (every 500 ms, or early) takes the outbox
// and sends it, as one batch, on a goroutine of its own, to every head it
// knows (as its heartbeats go to every head); a head applies its own
// process's batch to its Table directly. Sending to every head, rather
// than to one head that a query would then have to ask the others about,
// costs a decode and an apply per head, and buys answers from any head
// alone, and events that outlive the death of any one head. A Table is bounded per job
// (JobLimit tasks, kept in a ring in the order first seen, and as many
// actors; past it the task first seen is dropped, and counted) and in
// jobs (MaxJobs jobs and MaxTasks tasks of all jobs together; past
// either, the job least recently reported is forgotten). A state query
// on any head is answered from that head's table; events already
// reported by a node that has since died stay listed. Nothing here is a
// Raft write: the table is a cache of reports, rebuilt from new reports
// after a head's restart (what a head missed while it was down it never
// gets).
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
