package placement

// Placement hints (spread, locality, colocate) decide the node before
// the ranking does:
//
//   - a preferred node (locality, colocate) that is alive, large enough
//     and not avoided gets the task: to run at once when it has the
//     demand free, otherwise to wait in its queue (as Ray's soft node
//     affinity does; the request's origin, which found no room, counts
//     as full);
//   - a spread key takes the next node round-robin among the feasible
//     nodes with the demand free.
//
// When the hint cannot be honoured (the preferred node is dead, too
// small or avoided; no node has room for a spread call), Place falls
// back to its ordinary ranking: a hint changes where a task runs, never
// whether it runs.

// placeByHint places req by its hint when it can: on req.Prefer, or
// round-robin for req.Spread. ok is false when there is no hint or it
// cannot be honoured.
func placeByHint(req *Request, snap *Snapshot, feas *feasibility) (Decision, bool) {
	switch {
	case req.Prefer != "":
		for i := range snap.Nodes {
			n := &snap.Nodes[i]
			if n.ID != req.Prefer || !feas.feasible(n) {
				continue
			}
			if n.ID != req.Origin && req.Demand.Fits(n.Available) {
				return Decision{Node: n.ID, Reason: n.ID + " " + hasFree(req.Demand) + "; a placement hint prefers it"}, true
			}
			return Decision{Node: n.ID, Queued: true, Reason: "a placement hint prefers " + n.ID + ", which has no room now: the task waits in its queue"}, true
		}
	case req.Spread != "":
		return spreadNext(req, snap, feas)
	}
	return Decision{}, false
}

// spreadNext is the first feasible node with the demand free whose ID
// comes after req.SpreadAfter, wrapping around to the smallest.
func spreadNext(req *Request, snap *Snapshot, feas *feasibility) (Decision, bool) {
	first, next := -1, -1
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		if n.ID == req.Origin || !feas.feasible(n) || !req.Demand.Fits(n.Available) {
			continue
		}
		if first < 0 || n.ID < snap.Nodes[first].ID {
			first = i
		}
		if n.ID > req.SpreadAfter && (next < 0 || n.ID < snap.Nodes[next].ID) {
			next = i
		}
	}
	if next < 0 {
		next = first
	}
	if next < 0 {
		return Decision{}, false
	}
	n := &snap.Nodes[next]
	return Decision{Node: n.ID, Reason: n.ID + " " + hasFree(req.Demand) + "; spread: the next node round-robin for " + req.Spread}, true
}

// maxSpreadKeys bounds the call sites a Planner remembers for spread;
// past it the record starts over (the next call of each site starts
// from the first node again, still correct).
const maxSpreadKeys = 4096

// spreadBefore fills req.SpreadAfter from the planner's record.
func (p *Planner) spreadBefore(req *Request) {
	if req.Spread != "" {
		req.SpreadAfter = p.spread[req.Spread]
	}
}

// spreadAfter records where a spread placement went.
func (p *Planner) spreadAfter(req *Request, d Decision) {
	if req.Spread == "" {
		return
	}
	if p.spread == nil || len(p.spread) >= maxSpreadKeys {
		p.spread = map[string]string{}
	}
	p.spread[req.Spread] = d.Node
}
