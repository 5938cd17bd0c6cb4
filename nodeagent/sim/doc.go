// Package sim simulates a large cluster's control plane in one process:
// the head is real (nodeagent.StartHead: its GCS over a Raft transport on
// real sockets, its membership table, its global scheduler, its transport
// server with the cluster token), and the nodes are lightweight agents
// that speak the cluster protocol to it (an authenticated transport
// connection each, a registration, heartbeats at a set interval) but run
// no node agent: a placement the head makes on one of them is an empty
// task that the agent runs at once, in process, and reports free again at
// its next heartbeat. Drivers ask the head's global scheduler for every
// task (the Place message), which is the head's worst case: in a real
// cluster a node places what it can itself and asks the head only for
// what spills.
//
// Run starts a head and the agents, drives them for a while and returns
// what the head handled (Result). It is a benchmark tool (make sim,
// bench/sim), not part of the runtime.
//
// # Ownership and threading
//
// Run owns everything it starts and stops it all before it returns. Each
// agent's heartbeat loop is its own goroutine; the drivers are goroutines
// of their own; the counters they share are atomics. Agent and driver
// goroutines carry the pprof label role=agent or role=driver (their
// connections' goroutines inherit it), so that a CPU profile of a run tells
// the head's share from theirs: the head's goroutines carry no role.
package sim
