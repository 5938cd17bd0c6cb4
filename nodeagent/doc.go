// Package nodeagent runs rayflow's nodes: each node has a local
// scheduler (tasks wait for their dependencies, then run on worker
// goroutines bounded by the node's CPUs), an object store, and hosts
// actors. A task submitted on a node runs there when the node has room
// and its queue is short; otherwise it spills: a plain task goes
// straight to a node the process's own view of the cluster picks
// (view.go, refreshed from a head at each heartbeat), and the global
// scheduler (package placement, run by the heads) places by free
// resources, load and data locality what has a placement hint, what the
// view cannot place and what was given back: the bottom-up scheduling of
// the Ray paper.
//
// nodeagent is the wiring (Ray's node manager): it builds the components
// below, dispatches incoming messages, and implements exec.Runtime
// (Cluster). Its subpackages own their state:
//
//	wire        the message bodies and their codecs (no state)
//	head        a head's membership table, placement and services
//	headclient  the heads as a process sees them, and which nodes died
//	objstore    a node's large values: memory limit, spill, restore;
//	            and Object, the handle behind a future
//	actorhost   the actors living on a node: mailbox, order, dedup, stop
//	localsched  a node's local scheduler: queue, dispatch, CPUs given
//	            back while a task blocks in get or wait
//	owner       what a process owns as the caller of work elsewhere: the
//	            results it awaits, the lineage of the tasks it sent and
//	            their recovery, the actors it created or was handed and
//	            their restart, the places its calls took in their actors'
//	            order
//	placement   the global scheduler's policy (no state of its own)
//	transport   framed connections, the server and the connection pool
//	taskevents  the record of task and actor events: a process's outbox,
//	            a head's bounded table, the state API's rows, timelines
//	resources   resource quantities and the machine's totals
//	internal/safe  panic survival for background goroutines
//
// A networked process is two halves: network (net*.go), the transport
// side (serving and sending, the heads, which nodes died) and the
// executor of the work other processes send here; and its owner.Owner,
// what the process owns as the caller of work elsewhere (Ray's core
// worker): the results it awaits, the lineage of the tasks it sent, the
// actors it created or was handed, their recovery, and the answers to
// its calls. The owner reaches other processes only through
// owner.Network, which ownerNet (owner_net.go) implements over the
// network; the network hands it the answers it receives (TaskDone), the
// nodes the heads declared dead, and the tasks it sends elsewhere.
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
//	task.th, task.started         task.mu             its worker; cancel (any goroutine, which
//	                                                    cancels th under task.mu), the memory
//	                                                    monitor; the group's worker takes it
//	                                                    back (release)
//	groupRun.spare (a group's     the worker running  taskGroup.Run and the attempts of its
//	  thread, reused call by call)  the group           calls (group.go)
//	a fused run (fusedRun: the    the worker running  runFused alone, once runGroupSubmit made
//	  calls, results by index)      its taskGroup       it (group_fused.go)
//	Cluster.inFlight (the groups  submittedGroups.mu  submitting threads (add), the end of a
//	  submitted, last call not                          group's last call (remove), the report
//	  ended)                                            (snapshotTasks); events.go
//	doneList (a group's results   doneList.mu         the workers and cancellers completing its
//	  held for their owner)                             calls, its timer, a call that waits
//	task.hint (placement hint)    whoever holds the   set by schedule before the task is queued
//	                                task now            or spilled; read by the spiller; cleared
//	                                                    by spillback (queued) or a re-spill
//	Cluster.spread (last node,    spreadRecord.mu     embedded spills and actor placements
//	  or address, per spread key)                       (hintplace.go); the spill loop, for
//	                                                    spread calls placed on the view
//	                                                    (place_view.go)
//	network.cuts: the open per-   sync.Map; each      the thread submitting a per-node cut
//	  node cuts, by each unit's   unitCut its own mu  (open, close: place_units.go); whoever
//	  first call                                        spills one of its units (collect)
//	Cluster.templates: where each templatePlaces.mu   the spill loop and embedded spills
//	  (site, slot) of a template                        (read, remember), the dead-node watcher
//	  loop went last                                    and failed sends (forget); template.go
//	Cluster.placements            atomic              embedded spills (a count, for tests)
//	network.view (the local view: localView.mu        refreshed by the heartbeat loop; picked
//	  nodes, in flight by node)                         by the spill loop; released by whoever
//	                                                    completes a task's object (view.go)
//	a group of calls (taskGroup)  whoever holds it    the submitting thread builds it; then
//	                                now                 one queue entry, run by one worker in
//	                                                    order (group.go); its tasks as task
//	an object's value, error,     objstore.Object     whoever completes it (a worker, a
//	  readiness, waiters,         (its own lock)        connection goroutine with TaskDone),
//	  location, store handle                            readers (get, wait, fetch servers)
//	an actor's mailbox, dedup     the actor           its own goroutine runs the calls;
//	  window, stop                (actorhost)           callers enqueue
//	network.hosted: the actors    actorhost.Registry  connection goroutines (calls, checkpoints,
//	  other processes call here   (its own lock)        stops), job release, handle encoding
//	network.served, jobs          network.mu          connection goroutines (SubmitTask,
//	                                                    FetchObject, Query), workers
//	                                                    (serveObject), job release, the owner's
//	                                                    release of a fetched result
//	                                                    (handleReleaseObjects)
//	network.borrows: futures      borrows.mu          connection goroutines decoding tasks
//	  lent to this process's                            (borrowArg), the runtime's cleanup
//	  tasks, lends to give back                         goroutine (unborrowed), its send timer,
//	                                                    senders of tasks (escaping) (borrow.go)
//	network.programs (compiled,   programCache.mu     connection goroutines loading a task's
//	  by hash)                                          program, the driver registering its own
//	network.workdirs: working     workDirs.mu         the driver sharing one (ShareWorkDir), the
//	  directories shared (driver),                      Query handler serving it, workers on their
//	  fetched and unpacked (node)                       job's first io call (workDirs.jobDir), job
//	                                                    release, close; file work outside the lock
//	network.peers                 network.peersMu     connection goroutines (OnHello), the
//	                                                    membership change callback (heads only)
//	network.spillCh               the spill loop      node schedulers send; the spill loop
//	                                                    batches and places (net_batch.go)
//	what a process awaits, the    owner.Owner         the spill loop (Await, Remember),
//	  lineage of what it sent,    (its locks; see       TaskDone handlers, the dead-node
//	  the actors it created or    package owner)        watcher (NodeDied), callers, the
//	  was handed, its calls'                            restart and relocation goroutines,
//	  places in actors' orders                          job release
//	lineage (the stash)           stash.Stash         task paths add records; its flusher
//	                                                    goroutine writes them (package stash)
//	lazyStore.st, err             lazyStore.mu        its opening goroutine; readers wait on ready
//	Cluster.events: the outbox of taskevents.Recorder  task paths add (submit, end, method end,
//	  task events (events.go)     (its mu)              actor start and stop); a report adds what the
//	                                                    nodes queue and run, takes and sends to the heads
//	                                                    (the heartbeat loop's report goroutine, the flush
//	                                                    query)
//	network.events: on a head,    taskevents.Table    connection goroutines apply reports; state
//	  the events reported to it   (its mu)              queries and timelines read
//	Cluster.marks: the roots of   cancelMarks.mu      cancel and job release add; every path
//	  cancelled subtrees (by ID)                        that starts a task checks (cancel.go)
//	network.leases: on a head,    jobLeases.mu        connection goroutines renew; the
//	  when each job's driver                            heartbeat loop expires; job release
//	  last renewed its lease,                           drops (net_jobs.go); /metrics counts;
//	  and the driver's address                          dial checks read (holder)
//	network.dials: addresses the  dialPolicy.mu       the pool's dialling goroutines
//	  heads vouched for, refusals                       (mayDial, dialpolicy.go)
//	Cluster.caps: each job's      jobCaps (sync.Map)  task workers, actor and driver threads
//	  memory cap (--max-memory)                         note; object stores read; job release
//	                                                    forgets (caps.go)
//	Cluster.drivers: its driver   drivers.mu          NewThread adds; the memory monitor
//	  threads, held weakly                              reads (memmonitor.go)
//	procMonitor: the process's    memMonitor.mu       NewCluster adds, Shutdown removes; its
//	  clusters and memory limit                         goroutine samples the heap and stops
//	                                                    work (memmonitor.go)
//	Node.tasks: task counters     metrics.FuncCounts  task paths add (submit, receive, end);
//	  by function, for /metrics   (sync.Map, atomics)   the scrape reads (metrics.go)
//	Cluster.names: an embedded    namedActors.mu      calling threads (make, actors.get,
//	  cluster's named actors                            kill), EndJob (named.go)
//	network.names: a head's name  netNames.mu         connection goroutines (QueryNamedActor),
//	  table; the named actors'                          calling threads, job release, the
//	  handles a process holds                           heartbeat loop (named_net.go)
package nodeagent
