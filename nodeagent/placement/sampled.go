package placement

import (
	"slices"
	"strings"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Sampled placement: a Planner over more than SampleAbove nodes places a
// plain request (no argument bytes, hint or avoided node) without ranking
// every node, so that the head's global scheduler costs about the same per
// task with 1,000 nodes as with 100 (the simulated control plane,
// nodeagent/sim, found the full ranking to be what stopped placements/s
// from growing: 74% of the head's CPU at 1,000 nodes, under the
// membership's lock). As Ray's hybrid policy and Sparrow's power of k
// choices do, it ranks a sample:
//
//   - nodes with the demand free: the best (by score) of the first
//     SampleSize found, scanning the nodes in ID order (so that the
//     order of a snapshot's nodes does not matter) from a cursor that
//     moves on with each placement, so that successive tasks look at
//     different nodes;
//   - when no node has the demand free: the shortest estimated wait of
//     the next SampleSize feasible nodes from the cursor.
//
// Whether some node has the demand free is never sampled: a task is
// queued only when no node has it free. A full scan that finds none
// remembers it for that demand (noRoom); reservations only take from a
// node, so until nodes report again only the nodes that reported since
// (noRoom.since) can have room, and only they are looked at (one found
// full again is dropped from the list). A list longer than the nodes, or
// a Remove, forgets the memo.
const (
	SampleAbove = 128
	SampleSize  = 16
)

// noRoom remembers that no node had demand free at a full scan, and which
// nodes reported since.
type noRoom struct {
	valid  bool
	demand resources.Resources
	since  []int // indexes into Planner.nodes
}

// sampled reports whether req is placed by sampling.
func (p *Planner) sampled(req *Request) bool {
	return len(p.nodes) > SampleAbove && len(req.ArgBytes) == 0 && len(req.Avoid) == 0 &&
		req.Prefer == "" && req.Spread == ""
}

// placeSampled places a plain request on a large cluster (see above).
func (p *Planner) placeSampled(req *Request) (Decision, error) {
	feas := newFeasibility(req)
	rank := newRanker(req)
	if d, ok := p.sampleRoom(req, &feas, &rank); ok {
		return d, nil
	}
	return p.sampleQueue(req, &feas, &rank)
}

// roomAt reports whether node i has req's demand free now, the node
// that spilled req included: it is never chosen for req (isOrigin), but
// the memo of a demand no node has free must keep it for other origins.
func (p *Planner) roomAt(i int, req *Request, feas *feasibility) bool {
	p.looked++
	n := &p.nodes[i]
	return feas.feasible(n) && req.Demand.Fits(n.Available)
}

// isOrigin reports whether node i spilled req.
func (p *Planner) isOrigin(i int, req *Request) bool { return p.nodes[i].ID == req.Origin }

// sampleRoom chooses among nodes with req's demand free, if there are any.
func (p *Planner) sampleRoom(req *Request, feas *feasibility, rank *ranker) (Decision, bool) {
	best, found := -1, 0
	better := func(i int) {
		found++
		if best < 0 {
			best = i
			return
		}
		s, b := rank.score(&p.nodes[i]), rank.score(&p.nodes[best])
		if s > b || s == b && p.nodes[i].ID < p.nodes[best].ID {
			best = i
		}
	}
	if p.full.valid && p.full.demand.Equal(req.Demand) {
		// Drop the nodes that have no room any more: until they report
		// again, they will not.
		since, kept := p.full.since, p.full.since[:0]
		for j, i := range since {
			if found == SampleSize {
				kept = append(kept, since[j:]...)
				break
			}
			if p.roomAt(i, req, feas) {
				kept = append(kept, i)
				if !p.isOrigin(i, req) {
					better(i)
				}
			}
		}
		p.full.since = kept
	} else {
		n := len(p.nodes)
		k, origin := 0, -1 // origin: the spilling node, when it has room
		for ; k < n && found < SampleSize; k++ {
			switch i := p.order[(p.cursor+k)%n]; {
			case !p.roomAt(i, req, feas):
			case p.isOrigin(i, req):
				origin = i
			default:
				better(i)
			}
		}
		p.cursor = (p.cursor + k) % n
		if found == 0 {
			// Only the origin may have room: it stays to be looked at
			// for a request from another node.
			p.full = noRoom{valid: true, demand: req.Demand, since: p.full.since[:0]}
			if origin >= 0 {
				p.full.since = append(p.full.since, origin)
			}
		}
	}
	if best < 0 {
		return Decision{}, false
	}
	n := &p.nodes[best]
	return Decision{Node: n.ID, Reason: rank.explain(n)}, true
}

// sampleQueue queues req on the node of shortest estimated wait among the
// next SampleSize feasible nodes.
func (p *Planner) sampleQueue(req *Request, feas *feasibility, rank *ranker) (Decision, error) {
	n := len(p.nodes)
	var busy candidate
	busy.idx = -1
	seen, k := 0, 0
	for ; k < n && seen < SampleSize; k++ {
		i := p.order[(p.cursor+k)%n]
		p.looked++
		node := &p.nodes[i]
		if !feas.feasible(node) {
			continue
		}
		seen++
		c := candidate{idx: i, waitNum: int64(min(max(node.QueueLen, 0), maxQueue)) + 1, waitDen: rank.slots(node)}
		if busy.idx < 0 || c.waitsLess(busy, node.ID, p.nodes[busy.idx].ID) {
			busy = c
		}
	}
	p.cursor = (p.cursor + k) % n
	if busy.idx < 0 {
		return Decision{}, infeasible(req, &p.snap, *feas)
	}
	node := &p.nodes[busy.idx]
	return Decision{Node: node.ID, Queued: true, Reason: rank.explainQueued(node, req.Origin)}, nil
}

// reported notes that node i reported: it may have room again.
func (p *Planner) reported(i int) {
	if !p.full.valid {
		return
	}
	if len(p.full.since) >= len(p.nodes) {
		p.full = noRoom{}
		return
	}
	p.full.since = append(p.full.since, i)
}

// byID sorts node indexes by node ID.
func (p *Planner) byID(a, b int) int { return strings.Compare(p.nodes[a].ID, p.nodes[b].ID) }

// sortOrder lists every node's index in ID order (NewPlanner, Remove).
func (p *Planner) sortOrder() {
	p.order = p.order[:0]
	for i := range p.nodes {
		p.order = append(p.order, i)
	}
	slices.SortFunc(p.order, p.byID)
}

// addOrder puts the node just added at index i in its place in order.
func (p *Planner) addOrder(i int) {
	at, _ := slices.BinarySearchFunc(p.order, i, p.byID)
	p.order = slices.Insert(p.order, at, i)
}
