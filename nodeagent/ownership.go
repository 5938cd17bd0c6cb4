package nodeagent

import (
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
)

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

// FetchObject brings here the value of o, held by the process at addr
// (objstore.Fetcher): fetched from there, or rebuilt from its lineage (or
// by its owner) when that process lost it.
func (ow *ownership) FetchObject(o *objstore.Object, addr string) (exec.Value, *exec.Error) {
	v, err := ow.nw.fetch(o.ID(), addr)
	if err != nil {
		v, err = ow.rebuild(o, addr, err)
	}
	return v, err
}
