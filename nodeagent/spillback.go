package nodeagent

import (
	"context"
	"time"

	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Spillback: a task waiting in a node's queue moves to a node with room.
//
// The global scheduler queues a task at the node where it expects the
// shortest wait when no node has room for it. That guess can be wrong
// for good: the resources it waits for may be held by actors that never
// end, while another node frees up a moment later. So every
// spillbackEvery a node looks at the tasks that have waited in its queue
// longer than spillbackAfter and do not fit its free resources, and asks
// the global scheduler again; a task for which another node has room now
// leaves the queue. A task of this process's goes there directly; one
// sent here by another process goes back to its owner (TaskDone with
// Resubmit), which places it again, so the owner keeps knowing where its
// tasks run. A task queued where its placement hint (locality,
// colocate) wanted it is asked about without the hint: the hint is
// worth a short wait, not a long one.

const (
	spillbackEvery = 500 * time.Millisecond
	spillbackAfter = 500 * time.Millisecond
	// maxSpillback bounds the tasks one round asks about.
	maxSpillback = 64
)

// spillbackLoop moves long-waiting tasks until the network stops.
func (nw *network) spillbackLoop() {
	defer safe.Survive("the spillback loop", nw.stop, nw.spillbackLoop, nil)
	tick := time.NewTicker(spillbackEvery)
	defer tick.Stop()
	for {
		select {
		case <-nw.stop:
			return
		case <-tick.C:
		}
		for _, n := range nw.c.nodes {
			nw.spillbackFrom(n)
		}
	}
}

// spillbackFrom asks where the tasks stuck in n's queue could run now,
// and moves those that have somewhere to go.
func (nw *network) spillbackFrom(n *Node) {
	stuck := n.stuckTasks(time.Now().Add(-spillbackAfter), maxSpillback)
	if len(stuck) == 0 {
		return
	}
	reqs := make([]wire.PlaceRequest, len(stuck))
	for i, t := range stuck {
		// It waited long enough for room where its placement hint
		// wanted it: now any node with room will do.
		t.hint = nil
		reqs[i] = nw.placeRequest(t, n.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	results, err := nw.placeBatch(ctx, reqs)
	if err != nil {
		return // the heads are away: try again next round
	}
	for i, t := range stuck {
		res := results[i]
		if res.Err != nil || res.Queued || res.Node == n.ID || res.Addr == nw.addr || !n.unqueue(t) {
			continue
		}
		if t.owner == "" {
			nw.dispatchBatch(ctx, res.Addr, []*task{t})
			continue
		}
		done := &wire.Done{ID: t.call.ID, Resubmit: true}
		if err := nw.pool.Send(t.owner, transport.TaskDone, done.Encode()); err != nil {
			n.enqueue(t) // its owner is away: keep it
		}
	}
}

// stuckTasks lists up to limit queued tasks that entered the queue
// before since and do not fit the node's free resources.
func (n *Node) stuckTasks(since time.Time, limit int) []*task {
	var out []*task
	for _, w := range n.sched.Stuck(since, limit) {
		if t, ok := w.(*task); ok { // a group stays where its calls run together
			out = append(out, t)
		}
	}
	return out
}

// unqueue takes a task out of the node's queue; false if it is no longer
// there (it started, or was cancelled).
func (n *Node) unqueue(t *task) bool { return n.sched.Unqueue(t) }
