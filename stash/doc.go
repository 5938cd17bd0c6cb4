// Package stash is the per-node lineage stash: decentralized lineage logging
// whose cost stays off the task path, after the Lineage Stash (Wang et al.,
// SOSP 2019).
//
// # The idea
//
// Recovery by re-execution needs the lineage of every task (its
// specification, and the outcome of every nondeterministic step it took) to
// survive the failure of the node that produced it. Ray's original scheme
// writes each task to the GCS before it is dispatched, which puts a
// replicated write on every task's critical path. The Lineage Stash
// observes that lineage only has to be durable *somewhere that recovery can
// read it*, and only by the time anything else depends on it. So each node
// keeps the lineage it has seen but not yet seen committed in memory (its
// stash), and whenever it sends a task to another node it piggybacks the
// part of that uncommitted lineage the task depends on and the receiver
// lacks. Any lineage a surviving node depends on is then either in the GCS or
// in that node's own stash. Writing to the GCS still happens, but
// asynchronously and in batches, and its only job is to let the stashes
// shrink.
//
// # The algorithm here
//
//   - Entries. A stash entry is either a task specification (a
//     gcs.TaskRecord, keyed by its TaskID) or the outcome of one
//     nondeterministic step of a task (an Outcome, keyed by OutcomeKey: the
//     order in which an actor received a call, the result of wait, a draw
//     from unseeded randomness, a read of io or time). Every entry counts the
//     forwarding hops it has travelled: 0 where it was added, +1 on every
//     Receive.
//   - Specs. A task this node submits is added as a Spec (AddSpec): the
//     call itself, which does not change, from which the record is built
//     only when it is needed — by the flusher, outside the lock, or by
//     Forward or a lookup. A fresh ID (one this process has just made)
//     skips the committed lookup and is only queued: it enters the maps
//     that Forward, Receive, lookups and Stats walk when one of them next
//     runs (indexLocked), so a task path that forwards nothing touches no
//     map; once written it is not remembered as committed unless a peer
//     held it, since nothing else can bring it back. A Spec that embeds
//     a Slot holds its own entry, so a submitted task costs the stash
//     one allocation (the Spec), and the queues keep their room from
//     batch to batch.
//   - Dependencies. A task depends on its parent (ParentID) and on the tasks
//     that produce its argument objects (Config.ObjectTask maps an object ID
//     to its producing task; by default they are equal). Forward walks these
//     edges through the stash, collecting uncommitted records and the
//     task's outcomes, and stops at whatever is committed or unknown. It
//     also stops at a record the receiver already holds, since the
//     receiver got that record's uncommitted ancestors with it — unless an
//     outcome has entered the stash since, in which case it walks on
//     (sending only what the receiver lacks), so an outcome logged late for
//     an ancestor still reaches it. Deterministic tasks contribute only
//     their specification; a nondeterministic task's logged outcomes travel
//     with it.
//   - Frames. ForwardAll is Forward for tasks sent together (a frame of
//     tasks to one node): one bundle, each entry in it once, built under
//     one hold of the lock; the receiver takes it in once.
//   - Knowledge of receivers. Each entry remembers the nodes known to hold it
//     (those it was forwarded to and the one it came from), so it is never
//     sent to them twice. When an entry commits, the nodes that hold it are
//     told so in the Committed list of the next bundle sent to them, and
//     prune it without writing it; Receive likewise prunes what a peer says
//     is committed. MarkCommitted takes the same news from elsewhere (a GCS
//     subscription, for instance).
//   - Flusher. A background goroutine writes pending entries to the GCS
//     tasks table, one batch in flight at a time (group commit: whatever
//     accumulates while a batch is in flight forms the next one). It
//     builds each entry's row (from its spec, outside the lock) and, when
//     its store is a BatchStore, encodes the batch once (gcs.TaskBatch)
//     and writes it with PutTaskBatch: the GCS keeps it as one row, in one
//     raft entry, and finds a task's record inside it by ID; other stores
//     get the records with PutTasks. A store that lets go of a batch once
//     written (BatchReleaser: the GCS in this process) gets the next
//     batch in the same buffer.
//     On commit the entries are pruned and their keys remembered in a bounded
//     FIFO set of committed IDs, so a late re-add or re-receive is ignored.
//     Entries this node added are written at once; entries received from a
//     peer are written only after Config.ReceivedGrace, which gives their
//     originator time to commit them and tell us, and is a safety net if it
//     never does. Writes are idempotent (the same row), so a duplicate write
//     costs a little bandwidth and nothing else. A failed batch is retried
//     after Config.RetryDelay.
//   - Forwarding bound. Uncommitted lineage could travel arbitrarily far
//     from a slow GCS. If any entry Forward would send has travelled
//     Config.ForwardBound hops (8 by default), Forward first writes the whole
//     set it would send to the GCS and waits for the commit (bounded by
//     Config.SyncFlushTimeout); the committed entries then need no
//     forwarding. So no stash ever holds an entry with more than
//     ForwardBound hops, and the task path touches the GCS only once every
//     ForwardBound hops of a chain, not once per task.
//
// # Outcomes in the GCS
//
// Outcomes are kept as their own entries rather than folded into
// TaskRecord.Outcome, because a task's outcomes appear one by one while it
// runs, usually after its specification was committed (actor call order is
// only known when the actor starts the call), and folding them in would need
// a read-modify-write of the committed record. Each outcome is written as a
// row of the tasks table keyed by OutcomeKey(taskID, seq) (see OutcomeRecord
// for the row's layout); TaskRecord.Outcome is left to the caller. Outcome
// sequence numbers count a task's nondeterministic steps from 0 without gaps,
// which lets Lookup read them back from the GCS until the first missing one.
//
// # Modes
//
// The caller chooses the lineage mode (Mode): ModeStash uses a Stash,
// ModeSync writes every record before dispatch with WriteSync (Ray's
// original scheme), and ModeOff keeps nothing. LookupStore reads lineage
// from the GCS alone, for ModeSync.
//
// # Concurrency
//
// A Stash is safe for concurrent use. Add, AddSpec, AddOutcome, Receive,
// Forward and ForwardAll take one mutex for time proportional to the
// lineage they touch and never wait on the GCS, except Forward and
// ForwardAll when the forwarding bound is reached.
package stash
