// Package owner is what a process keeps as the owner of the work it sends
// to other processes (Ray's ownership; the core worker's half of a
// process): the results it awaits, the lineage of the tasks it sent and
// their recovery when a node dies, the actors it created and their
// restart, the handles it was given on actors created elsewhere and their
// relocation, the places its calls took in their actors' order and the
// calls it made on actors it was handed (OrderLog), and the answers to
// its calls (Owner.HandleDone, Owner.HandleDoneList: a group's results,
// the IDs of consecutive calls derived, not sent).
//
// Owner reaches other processes only through Network, the small
// interface this package defines of the transport side; package
// nodeagent implements it over its network and wires an Owner into each
// networked process. The tasks whose lineage it keeps are opaque to it
// (Task), and so is sending them again (Network.Spill). It also serves as
// the objstore.Fetcher of the objects whose values live elsewhere: it
// fetches them, or rebuilds them from their lineage when their holder
// died. This package never imports nodeagent.
//
// # Ownership and threading
//
// An Owner owns:
//
//	state                          lock           touched by
//	awaited: the results awaited   Owner.awaitMu  the spill loop and callers (Await,
//	  from other nodes, by ID and                   SentGroup), the connection goroutines
//	  the node each was sent to                     (HandleDone), fetch servers (Awaited), the
//	  (one record per group sent                    dead-node watcher (NodeDied and its
//	  whole: tables.go)                             retries), job release
//	lineage: the tasks it sent,    Owner.mu       the spill loop (Remember, SentGroup),
//	  with their retry counts                       HandleDone (forget), recovery goroutines
//	  (one record per group)                        (retries, rebuilds), job release
//	actors: the actors it created  Owner.mu       callers (CreateActor), the dead-node
//	                                                watcher, restarts, job release, leaving
//	borrowed: handles it was       Owner.mu       handle decoding (Borrow), the runtime's
//	  given (weak pointers)                         cleanup (dropping one), the watcher
//	an Actor's address, call log,  Actor.mu       callers (CallRemote), HandleDone (a gone
//	  pending calls, checkpoint,                    actor), the restart and relocation
//	  incarnation                                   goroutines, "where is it" answers
//	releases: fetched results'     releases.mu    readers that fetched (Released), the
//	  holders to tell, not sent                     timer that sends them
//	lends: the objects lent as     lends.mu       senders of tasks (Lend), the borrowers'
//	  tasks' arguments, and the                     messages (Unborrow, Escaped), readers
//	  releases waiting for them                     that fetched (release), job release
//	orders: places and kept calls  OrderLog.mu    HandleDone (Note), callers (KeepCall),
//	                                                lineage queries (Outcomes, Call)
//
// Any goroutine may call an Owner's exported methods. awaitMu is never
// held together with another lock; mu may be held while an Actor's mu is
// taken, never the reverse; no lock is held across a send, a call, a
// placement or a fetch through the Network. Recovery runs
// on goroutines of its own (one per retried task, restarted actor or
// relocated handle), never on the watcher's or a connection's.
package owner
