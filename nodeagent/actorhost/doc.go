// Package actorhost runs the actors that live on a node: each Actor has
// a mailbox of method calls and checkpoints, run one at a time on the
// actor's own goroutine in the order they were queued (so calls from one
// caller run in call order), the count of calls it ran (its place in the
// actor-order log that a restart replays), a window of its latest calls
// from other processes (a call that arrives twice is answered from the
// first run), and its stop. A concurrent actor (@concurrency(n)) runs up
// to n calls at once, each on a thread of its own, holding the actor's
// state lock except while it waits (concurrent.go); a call's thread is
// a returned call's, scrubbed, once the actor has one (at most n kept).
// A call that finds a slot free and the mailbox empty is started by
// Enqueue on the caller's goroutine, and a call that returns while calls
// wait in the mailbox runs the first of them on its own goroutine and
// thread, keeping its slot; the actor's goroutine starts the others
// (the calls queued before the state was built, a checkpoint queued on
// an idle actor). Whoever starts it, a call is the mailbox's first:
// calls start in mailbox order, at most n at once.
//
// # Ownership and threading
//
// An Actor owns its mailbox, its stopped and orphaned flags and its
// dedup window, guarded by its mutex: any goroutine may Enqueue,
// EnqueueCheckpoint, Stop, Kill or Orphan it. Its instance (the fields),
// its call count and its start error belong to its goroutine alone, or,
// for a concurrent actor, to the call that holds its state lock; its
// spare threads are guarded by the concurrent part's mutex, and calls to
// Spec.NewThread never overlap (made under it). Its ID,
// class, demand, incarnation and creator are fixed by New.
//
// What an actor needs of its node (resolving arguments, publishing
// results into the object store, logging its order for lineage, counts
// and the timeline, giving its resources back when it stops) is the Node
// interface, which package nodeagent implements; results are the Result
// interface (nodeagent's objects). The package knows nothing of the
// network: nodeagent routes calls from other processes to the actors it
// hosts.
package actorhost
