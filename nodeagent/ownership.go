package nodeagent

import "github.com/rayflow/rayflow/nodeagent/owner"

// ownership is what a networked process owns as the caller of tasks and
// actors that run on other nodes (the core worker of Ray's ownership
// model): the lineage of the tasks it sent, so it can run them again
// when their node dies (recovery.go); the actors it created and restarts,
// and the handles it was given on actors created elsewhere (borrowed.go,
// net_actor.go, actor_log.go); the places its calls took in their
// actors' order (owner.OrderLog); and the answers to its calls
// (handleDone). It reaches other processes through its network (nw): the
// network is the transport side (serving, sending, the heads, which nodes
// died) and the executor of the work others send here.
//
// rec is guarded by rec.mu, orders by its own lock; the results this
// process awaits stay in the network's awaited map (nw.mu), which the
// network's senders fill.
type ownership struct {
	nw     *network
	rec    *recovery
	orders owner.OrderLog
}
