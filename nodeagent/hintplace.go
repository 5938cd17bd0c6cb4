package nodeagent

import (
	"fmt"
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/planner/decision"
)

// Placement hints on the run path. The planner's decision for a call
// site (decision.Site.Place) reaches a task through its call: when the
// task's arguments are ready, placeHintOf works out what the hint asks
// for, in the scope's terms (a node ID in an embedded cluster, a process
// address in a networked one):
//
//   - spread: the site's key; the global scheduler (the head's Planner,
//     or spreadRecord in an embedded cluster) places its calls
//     round-robin over the nodes with room;
//   - locality: the place holding the largest argument, by bytes (also
//     the calls of a tree reduction: exec.TaskCall.Near);
//   - colocate(with=i): the node of the actor handle passed as argument
//     i, or the place holding its object when it is a future.
//
// The local scheduler (Node.schedule) then keeps the task when the hint
// wants it here (waiting for room if need be, as the global scheduler
// would queue it here), and otherwise hands it to the global scheduler
// with the hint (placement.Request.Prefer and Spread), even when it had
// room. What cannot be honoured (the node died or is too small, the
// argument is a plain value, no node has room for a spread call) falls
// back to the default placement.

// placeHint is what a task's placement decision asks for.
type placeHint struct {
	spread string // the spread key of the call site; "" for none
	prefer string // where to run: node ID (embedded) or address; "" for none
	// voluntary: the local scheduler had room but spilled for the hint,
	// so the global scheduler must not count its node as full.
	voluntary bool
}

// siteDecision is the planner's placement decision for a call, nil when
// it has none.
func siteDecision(call *exec.TaskCall) *decision.Site {
	if call.Func == nil || call.Site == nil || call.Func.Program() == nil {
		return nil
	}
	d := call.Func.Program().Plan.Site(call.Site)
	if d == nil || d.Place == decision.PlaceDefault {
		return nil
	}
	return d
}

// placeHintOf works out a task's placement hint once its arguments are
// ready.
func (c *Cluster) placeHintOf(call *exec.TaskCall) placeHint {
	d := siteDecision(call)
	if d == nil {
		if call.Near { // a call of a tree reduction
			return placeHint{prefer: c.largestArgAt(call.Args)}
		}
		return placeHint{}
	}
	switch d.Place {
	case decision.PlaceSpread:
		p := call.Func.Program()
		return placeHint{spread: fmt.Sprintf("%s@%s:%d:%d", p.Hash, call.Site.Pos.Filename, call.Site.Pos.Line, call.Site.Pos.Column)}
	case decision.PlaceLocality:
		return placeHint{prefer: c.largestArgAt(call.Args)}
	case decision.PlaceColocate:
		if d.With >= 0 && d.With < len(call.Args) {
			return placeHint{prefer: c.whereIs(call.Args[d.With])}
		}
	}
	return placeHint{}
}

// actorSpread is the spread key of an actor class whose instances go to
// distinct nodes (@hint(spread) on the actor, or @serve: a served actor's
// replicas are spread, spec/serving.md), "" for others.
func actorSpread(class *exec.ActorClass) string {
	if class == nil || class.Program() == nil {
		return ""
	}
	if class.Info.Serve == nil && class.Program().Plan.ActorPlace(class.Info) != decision.PlaceSpread {
		return ""
	}
	return class.Program().Hash + "@actor " + class.Name()
}

// largestArgAt is where the largest future among args lives ("" when
// none has a known size).
func (c *Cluster) largestArgAt(args []exec.Value) string {
	at, most := "", int64(0)
	for _, a := range args {
		if a.Kind() != exec.FutureKind {
			continue
		}
		o := objstore.ObjectOf(a.AsFuture())
		if o == nil {
			continue
		}
		if _, size := o.WhereAndSize(); size > most {
			at, most = c.objectAt(o), size
		}
	}
	return at
}

// whereIs is where an argument lives: an actor's node, or the place
// holding a future's value; "" for a plain value.
func (c *Cluster) whereIs(v exec.Value) string {
	switch v.Kind() {
	case exec.FutureKind:
		if o := objstore.ObjectOf(v.AsFuture()); o != nil {
			return c.objectAt(o)
		}
	case exec.ActorKind:
		switch a := v.AsActor().Handle.(type) {
		case *actorhost.Actor:
			if c.net != nil {
				return c.net.addr
			}
			return a.NodeID()
		case *owner.Actor:
			if c.net != nil {
				addr, _, _ := a.Whereabouts(c.net.addr)
				return addr
			}
		}
	}
	return ""
}

// objectAt is where a ready object's value lives, in the scope's terms.
func (c *Cluster) objectAt(o *objstore.Object) string {
	if c.net == nil {
		// Only a large value has a place: the node whose store keeps it.
		if big := o.Big(); big != nil {
			for _, n := range c.nodes {
				if big.In(n.store) {
					return n.ID
				}
			}
		}
		return ""
	}
	if addr := o.RemoteLocation(); addr != "" {
		return addr
	}
	return c.net.addr
}

// scheduleByHint places a ready task by its placement hint, if it has
// one: it reports false when the task takes the ordinary path (no hint,
// one node, a spill the local scheduler makes anyway), true when it was
// queued here or handed to the global scheduler.
func (n *Node) scheduleByHint(t *task) bool {
	c := n.cluster
	if c.net == nil && len(c.nodes) == 1 {
		return false
	}
	h := c.placeHintOf(t.call)
	if h.spread == "" && h.prefer == "" {
		return false
	}
	t.hint = &h
	stats := &t.call.Func.Program().PlanStats // a hint comes from the plan of the call's program
	switch {
	case h.prefer != "" && (h.prefer == n.ID || c.net != nil && h.prefer == c.net.addr):
		if !n.roomSomeday(t.demand) {
			t.hint = nil // it would wait here for ever: place it as without
			stats.HintFallbacks.Add(1)
			return false
		}
		stats.HintPlaced.Add(1)
		n.enqueue(t) // wanted here: it waits for room here
		return true
	case n.wouldSpill(t.demand):
		stats.HintPlaced.Add(1)
		return false // it spills anyway, with its hint
	}
	stats.HintPlaced.Add(1)
	h.voluntary = true
	c.scope.spill(t, n)
	return true
}

// roomSomeday reports whether n will have demand free some day: its
// total less what its actors hold (they may never give it back) holds
// it. Tasks give their resources back, so they do not count.
func (n *Node) roomSomeday(demand resources.Resources) bool {
	left := n.sched.Total()
	n.mu.Lock()
	for _, a := range n.actors {
		left = left.Sub(a.Demand())
	}
	n.mu.Unlock()
	return demand.Fits(left)
}

// placeEmbedded places a spilled task of an embedded cluster, by its
// hint when it can. Nodes whose actors hold them for good leave no room
// for the task some day: they are avoided, so that the task does not
// queue there for ever (an embedded cluster has no spillback to move
// it), unless every node is such a node.
func (c *Cluster) placeEmbedded(t *task, origin *Node, snap *placement.Snapshot) (placement.Decision, error) {
	req := t.placeHint().request(t, origin.ID)
	for _, n := range c.nodes {
		if !n.roomSomeday(t.demand) {
			req.Avoid = append(req.Avoid, n.ID)
		}
	}
	d, err := c.spread.place(req, snap)
	if err != nil && req.Avoid != nil {
		req.Avoid = nil
		return c.spread.place(req, snap)
	}
	return d, err
}

// placeHint is the task's placement hint, the zero hint without one.
func (t *task) placeHint() placeHint {
	if t.hint == nil {
		return placeHint{}
	}
	return *t.hint
}

// origin is the Origin of a placement request for a task spilled from
// the node origin: none when it left by its hint, with room to spare.
func (h placeHint) origin(origin string) string {
	if h.voluntary {
		return ""
	}
	return origin
}

// request is the global scheduler's request for t, spilled from origin.
func (h placeHint) request(t *task, origin string) placement.Request {
	return placement.Request{TaskID: t.call.ID, Demand: t.demand, Origin: h.origin(origin), Prefer: h.prefer, Spread: h.spread}
}

// placeRequest is the Place request for a task spilled from origin.
func (nw *network) placeRequest(t *task, origin string) wire.PlaceRequest {
	h := t.placeHint()
	return wire.PlaceRequest{Name: t.obj.Name(), Demand: t.demand, Origin: h.origin(origin),
		ArgBytes: nw.argBytesOf(t.call.Args), Prefer: h.prefer, Spread: h.spread}
}

// spreadRecord is an embedded cluster's record of where the last call
// of each spread key went (the head's Planner keeps its own).
type spreadRecord struct {
	mu   sync.Mutex
	last map[string]string
}

// place places req against snap, round-robin for its spread key.
func (r *spreadRecord) place(req placement.Request, snap *placement.Snapshot) (placement.Decision, error) {
	if req.Spread == "" {
		return placement.Place(req, snap)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	req.SpreadAfter = r.last[req.Spread]
	d, err := placement.Place(req, snap)
	if err == nil {
		if r.last == nil || len(r.last) >= maxSpreadKeys {
			r.last = map[string]string{}
		}
		r.last[req.Spread] = d.Node
	}
	return d, err
}

// maxSpreadKeys bounds the spread keys an embedded cluster remembers.
const maxSpreadKeys = 4096
