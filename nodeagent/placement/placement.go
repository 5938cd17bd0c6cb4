package placement

import (
	"fmt"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// NodeState is what the global scheduler knows of one node, from its latest
// heartbeat.
type NodeState struct {
	// ID names the node; it breaks ties between equally good nodes.
	ID string
	// Alive is false once the node has missed its heartbeats.
	Alive bool
	// Total is what the node has; Available what it has free right now.
	Total, Available resources.Resources
	// QueueLen counts tasks waiting in the node's local queue.
	QueueLen int
	// Running counts tasks running on the node.
	Running int
}

// Snapshot is a read-only view of the cluster, one NodeState per node with
// unique IDs. Place and Planner never modify it.
type Snapshot struct {
	Nodes []NodeState
}

// Request asks for a node for one task.
type Request struct {
	// TaskID names the task in decisions and errors.
	TaskID string
	// Demand is what the task needs while it runs.
	Demand resources.Resources
	// ArgBytes maps a node ID to the bytes of the task's arguments already
	// in that node's object store.
	ArgBytes map[string]int64
	// Origin is the node that spilled the task, if any. Its local scheduler
	// had fresher information than the last heartbeat and found no room,
	// so Place does not trust the snapshot's claim that it has the demand
	// free: the origin gets the task back only to queue there.
	Origin string
	// Avoid lists nodes on which the task has failed; they are not chosen.
	Avoid []string

	// Prefer is the node a placement hint asks for (locality, colocate):
	// Place chooses it whenever it is feasible and has the demand free,
	// whatever the scores of the others; otherwise Place decides as if
	// no node were preferred (a hint changes speed, never results).
	Prefer string
	// Spread names the call site (or actor class) whose placements go
	// round-robin over the nodes (the spread hint); SpreadAfter is the
	// node the previous one went to. Among the feasible nodes with the
	// demand free, Place takes the first after SpreadAfter in ID order.
	// A Planner fills SpreadAfter from its own record of Spread.
	Spread, SpreadAfter string
}

// Decision is where a task goes, and why.
type Decision struct {
	// Node is the ID of the chosen node.
	Node string
	// Reason explains the choice to people (logs, explain, status).
	Reason string
	// Queued is true when no feasible node had the demand free, so the task
	// waits in the chosen node's queue.
	Queued bool
}

// Place chooses a node for req from snap. It returns an *InfeasibleError
// (matching ErrInfeasible) when no alive node can ever run the task.
//
// Place allocates nothing per node; it reads snap and never modifies it.
func Place(req Request, snap *Snapshot) (Decision, error) {
	if snap == nil {
		return Decision{}, fmt.Errorf("place task %s: no cluster snapshot", req.TaskID)
	}
	feas := newFeasibility(&req)
	if d, ok := placeByHint(&req, snap, &feas); ok {
		return d, nil
	}
	rank := newRanker(&req)

	var now, busy candidate
	now.idx, busy.idx = -1, -1
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		if !feas.feasible(n) {
			continue
		}
		if n.ID != req.Origin && req.Demand.Fits(n.Available) {
			c := candidate{idx: i, score: rank.score(n)}
			if now.idx < 0 || c.score > now.score || (c.score == now.score && n.ID < snap.Nodes[now.idx].ID) {
				now = c
			}
			continue
		}
		if now.idx >= 0 {
			// A node with room now always beats a queue; skip the work.
			continue
		}
		c := candidate{idx: i, waitNum: int64(n.QueueLen) + 1, waitDen: rank.slots(n), score: rank.locality(n)}
		if busy.idx < 0 || c.waitsLess(busy, n.ID, snap.Nodes[busy.idx].ID) {
			busy = c
		}
	}

	switch {
	case now.idx >= 0:
		n := &snap.Nodes[now.idx]
		return Decision{Node: n.ID, Reason: rank.explain(n)}, nil
	case busy.idx >= 0:
		n := &snap.Nodes[busy.idx]
		return Decision{Node: n.ID, Queued: true, Reason: rank.explainQueued(n, req.Origin)}, nil
	}
	return Decision{}, infeasible(&req, snap, feas)
}

// candidate is the best node found so far in one tier of the ranking.
type candidate struct {
	idx   int
	score float64 // rank score, or locality for a queued placement
	// The estimated wait of a queued placement is waitNum/waitDen: tasks
	// ahead of it (plus itself) over how many such tasks the node runs at
	// once. Kept as a fraction so that comparisons are exact.
	waitNum, waitDen int64
}

// waitsLess orders queued placements: shorter estimated wait, then more
// argument bytes local, then the smaller node ID.
func (c candidate) waitsLess(o candidate, id, oid string) bool {
	l, r := c.waitNum*o.waitDen, o.waitNum*c.waitDen
	if l != r {
		return l < r
	}
	if c.score != o.score {
		return c.score > o.score
	}
	return id < oid
}
