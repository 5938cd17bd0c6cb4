package placement

// Planner places a batch of requests against one snapshot. After each
// placement it reserves what the placement takes in its own copy of the
// node states, so later requests in the batch see it and a batch never
// over-commits a node:
//
//   - a task placed on a node with the demand free takes the demand out of
//     the node's Available and counts as Running there;
//   - a task placed to queue adds one to the node's QueueLen, so a batch of
//     queued tasks spreads over the least loaded nodes.
//
// Reservations last until the node reports again: Report replaces a
// node's state, and with it every reservation made on it, by the node's
// own fresher account (a heartbeat), as Ray's cluster resource scheduler
// does. A long-lived Planner is therefore the global scheduler's view of
// the cluster: heartbeats Report into it, placements reserve from it.
//
// Requests are placed in the order given. A Planner is not safe for
// concurrent use: its owner (the head's membership, under its lock, or
// one batch) serialises every call.
type Planner struct {
	nodes []NodeState
	snap  Snapshot
	index map[string]int
	// spread is the node the last placement of each spread key went to.
	spread map[string]string
	// order lists the nodes' indexes in ID order, cursor is where in it
	// the next sampled placement starts looking, and full what it knows
	// of a demand no node had free (sampled.go).
	order  []int
	cursor int
	full   noRoom
	looked int64 // nodes placements looked at, for tests
}

// NewPlanner returns a Planner over a private copy of snap, which it never
// modifies.
func NewPlanner(snap *Snapshot) *Planner {
	p := &Planner{index: map[string]int{}}
	if snap != nil {
		// Resources values are immutable, so a shallow copy of the node
		// states is a private copy.
		p.nodes = append([]NodeState(nil), snap.Nodes...)
	}
	for i, n := range p.nodes {
		if _, dup := p.index[n.ID]; !dup {
			p.index[n.ID] = i
		}
	}
	p.snap.Nodes = p.nodes
	p.sortOrder()
	return p
}

// Plan is the outcome of a batch: one Placement per request, in order.
type Plan struct {
	Placements []Placement
}

// Placement is the outcome of one request: a Decision, or the error that
// kept it from being placed.
type Placement struct {
	Request  Request
	Decision Decision
	Err      error
}

// Failed returns the placements that did not find a node.
func (p *Plan) Failed() []Placement {
	var failed []Placement
	for _, pl := range p.Placements {
		if pl.Err != nil {
			failed = append(failed, pl)
		}
	}
	return failed
}

// Place places one request against the current state and reserves what the
// placement takes.
func (p *Planner) Place(req Request) (Decision, error) {
	p.spreadBefore(&req)
	var d Decision
	var err error
	if p.sampled(&req) {
		d, err = p.placeSampled(&req)
	} else {
		p.looked += int64(len(p.nodes)) // Place ranks every node
		d, err = Place(req, &p.snap)
	}
	if err != nil {
		return d, err
	}
	p.reserve(req, d)
	p.spreadAfter(&req, d)
	return d, nil
}

// Plan places every request in order (see Place) and returns the plan.
func (p *Planner) Plan(reqs []Request) *Plan {
	plan := &Plan{Placements: make([]Placement, 0, len(reqs))}
	for _, req := range reqs {
		d, err := p.Place(req)
		plan.Placements = append(plan.Placements, Placement{Request: req, Decision: d, Err: err})
	}
	return plan
}

// Snapshot returns the node states with every reservation made so far. The
// caller must not modify it, and must not keep it past the next Report.
func (p *Planner) Snapshot() *Snapshot { return &p.snap }

// Report records a node's latest state, as the node reported it: it adds
// a node not seen before, and for a known node replaces its state, which
// releases every reservation made on it so far.
func (p *Planner) Report(n NodeState) {
	if i, ok := p.index[n.ID]; ok {
		p.nodes[i] = n
		p.reported(i)
		return
	}
	p.index[n.ID] = len(p.nodes)
	p.nodes = append(p.nodes, n)
	p.addOrder(len(p.nodes) - 1)
	p.reported(len(p.nodes) - 1)
	p.snap.Nodes = p.nodes
}

// Remove forgets the nodes in ids (a head's dead members it no longer
// lists), keeping the others in their order.
func (p *Planner) Remove(ids map[string]bool) {
	kept := p.nodes[:0]
	for _, n := range p.nodes {
		if !ids[n.ID] {
			kept = append(kept, n)
		}
	}
	for i := len(kept); i < len(p.nodes); i++ {
		p.nodes[i] = NodeState{}
	}
	p.nodes = kept
	p.snap.Nodes = p.nodes
	p.full, p.cursor = noRoom{}, 0
	p.sortOrder()
	clear(p.index)
	for i, n := range p.nodes {
		if _, dup := p.index[n.ID]; !dup {
			p.index[n.ID] = i
		}
	}
	for key, node := range p.spread {
		if ids[node] {
			delete(p.spread, key)
		}
	}
}

// Node returns a node's current state, reservations included.
func (p *Planner) Node(id string) (NodeState, bool) {
	i, ok := p.index[id]
	if !ok {
		return NodeState{}, false
	}
	return p.nodes[i], true
}

func (p *Planner) reserve(req Request, d Decision) {
	n := &p.nodes[p.index[d.Node]]
	if d.Queued {
		n.QueueLen++
		return
	}
	n.Available = n.Available.Sub(req.Demand)
	n.Running++
}
