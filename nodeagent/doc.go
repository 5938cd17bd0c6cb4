// Package nodeagent runs rayflow's nodes: each node has a local
// scheduler (tasks wait for their dependencies, then run on worker
// goroutines bounded by the node's CPUs), an object store, and hosts
// actors. A task submitted on a node runs there when the node has room
// and its queue is short; otherwise it spills to the global scheduler
// (package placement, run by the heads), which places it by free
// resources, load and data locality: the bottom-up scheduling of the Ray
// paper.
//
// nodeagent is the wiring (Ray's node manager): it builds the components
// below, dispatches incoming messages, and implements exec.Runtime
// (Cluster). Its subpackages own their state:
//
//	wire        the message bodies and their codecs (no state)
//	head        a head's membership table, placement and services
//	headclient  the heads as a process sees them, and which nodes died
//	objstore    a node's large values: memory limit, spill, restore
//	actorhost   the actors living on a node: mailbox, order, dedup, stop
//	localsched  a node's local scheduler: queue, dispatch, CPUs given
//	            back while a task blocks in get or wait
//	owner       what a process keeps as the owner of its calls (so far the
//	            actor-order log; the rest is the ownership type, below)
//	placement   the global scheduler's policy (no state of its own)
//	transport   framed connections, the server and the connection pool
//	resources   resource quantities and the machine's totals
//	internal/safe  panic survival for background goroutines
//
// Inside the package, a networked process is two halves: network
// (net*.go), the transport side (serving and sending, the heads, which
// nodes died) and the executor of the work other processes send here;
// and ownership (ownership.go, recovery.go, borrowed.go, actor_log.go,
// the caller side of net_actor.go), what the process owns as the caller
// of work elsewhere (Ray's core worker): the lineage of the tasks it
// sent, the actors it created or was handed, their recovery, and the
// answers to its calls.
//
// # Modes
//
// Config.Validate decides once what kind of process this is: the lineage
// mode (stash.Mode) and the scope, an embedded cluster (localScope: its
// own in-process nodes) or one process of a cluster over the network
// (*network). Cluster asks its scope instead of testing which kind it is.
//
// # Who owns what
//
// Every map and queue of this package has one owner and one lock:
//
//	state                         owner and lock      touched by
//	Cluster.nodes                 Cluster (set once)  any goroutine, read-only after NewCluster
//	Cluster.demands (sync.Map)    Cluster             submitting threads (resource demand per callee)
//	a node's queue, running set,  Node.sched          submitting threads (schedule), workers
//	  free resources, workers     (localsched)          (finished, get and wait), the heartbeat
//	                                                    loop (state), the spillback loop
//	Node.actors                   Node.mu             actor placement (spawnActor), stopping
//	                                                    actors (forget), Alive, cancelAll
//	task.th                       task.mu             its worker; cancel (any goroutine)
//	object.val, err, ready,       object.mu           whoever completes it (a worker, a
//	  waiters, remote, big, size                        connection goroutine with TaskDone),
//	                                                    readers (get, wait, fetch servers)
//	an actor's mailbox, dedup     the actor           its own goroutine runs the calls;
//	  window, stop                (actorhost)           callers enqueue
//	network.hosted: the actors    actorhost.Registry  connection goroutines (calls, checkpoints,
//	  other processes call here   (its own lock)        stops), job release, handle encoding
//	network.awaited, served,      network.mu          connection goroutines (SubmitTask,
//	  jobs                                              TaskDone, FetchObject, Query), the spill
//	                                                    loop (await), the dead-node watcher
//	                                                    (nodeDied), workers (serveObject),
//	                                                    job release
//	network.programs (compiled,   programCache.mu     connection goroutines loading a task's
//	  by hash)                                          program, the driver registering its own
//	network.peers                 network.peersMu     connection goroutines (OnHello), the
//	                                                    membership change callback (heads only)
//	network.spillCh               the spill loop      node schedulers send; the spill loop
//	                                                    batches and places (net_batch.go)
//	ownership.rec: lineage,       recovery.mu         submitters (remember, forget), the
//	  actors, borrowed                                  dead-node watcher, restart goroutines
//	remoteActor.addr, log,        remoteActor.mu      callers (callRemote), TaskDone handlers,
//	  pending, checkpoint, gen                          the restart and relocation goroutines
//	ownership.orders: places,     owner.OrderLog      TaskDone handlers (Note), callers
//	  kept calls                  (its own lock)        (KeepCall), restarts (QueryLineage)
//	lineage (the stash)           stash.Stash         task paths add records; its flusher
//	                                                    goroutine writes them (package stash)
//	lazyStore.st, err             lazyStore.mu        its opening goroutine; readers wait on ready
//	timeline.events               timeline.mu         workers append; WriteTimeline reads
package nodeagent
