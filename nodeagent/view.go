package nodeagent

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Bottom-up scheduling (issue 15): a process places its plain tasks on
// its own view of the cluster and sends them straight to the node it
// chose, without asking the head's global scheduler first.
//
// The view is the head's (wire.GCSView: every alive node's address,
// total and free resources), read again at every heartbeat tick, off the
// task path. Between two reads the process counts what it sent each node
// and has not heard back about (inflight), so a burst is spread rather
// than piled on the node that looked free. Each node's free resources
// are kept as base, what it would have free without this process's
// tasks (its report plus this process's tasks there when it was read),
// so free now is base less inflight.
//
// Only plain tasks and groups are placed here: no placement hint, no large argument
// held somewhere (the head's locality score), not given back or failed
// once (placed again through the head). A task goes to the node with the
// most of its demand free; when none has it free, to the node where this
// process has the least in flight per CPU (it queues there, as the head
// would queue it); when no node could ever hold it, or the view is empty,
// the head decides as before, and an infeasible task fails there with
// kind resource. The node stays the authority on its resources: a wrong
// guess queues there, and its spillback (spillback.go) asks the head
// again for a task that waits too long.
//
// Threading: localView is safe for concurrent use; refresh runs on the
// heartbeat loop, pick on the spiller, release on whatever goroutine
// completes a task's object.

// viewNode is one node of a local view.
type viewNode struct {
	id, addr string
	total    resources.Resources
	// base is what the node would have free without this process's
	// tasks, at the time the view was read (at most total).
	base resources.Resources
}

// localView is a process's view of the cluster for bottom-up placement.
type localView struct {
	mu       sync.Mutex
	nodes    []viewNode
	inflight map[string]resources.Resources // by address: demand of tasks placed here, not done
	placed   atomic.Int64                   // tasks placed on the view
}

// refresh replaces the nodes of the view by a head's report.
func (v *localView) refresh(rows []wire.ViewNode) {
	nodes := make([]viewNode, 0, len(rows))
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range rows {
		total, err1 := resources.FromMap(r.Total)
		free, err2 := resources.FromMap(r.Available)
		if err1 != nil || err2 != nil {
			continue
		}
		base := free.Add(v.inflight[r.Addr])
		if !base.Fits(total) {
			base = total
		}
		nodes = append(nodes, viewNode{id: r.ID, addr: r.Addr, total: total, base: base})
	}
	v.nodes = nodes
}

// pick chooses a node for a task demanding demand, spilled from the node
// origin (never chosen), leaving out the addresses dead says are dead;
// "" when the head must decide. The demand counts as in flight there
// until release.
func (v *localView) pick(demand resources.Resources, origin string, dead func(string) bool) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	best, bestFree := -1, int64(0)
	queue, queueLoad := -1, int64(0)
	for i := range v.nodes {
		n := &v.nodes[i]
		if n.id == origin || !demand.Fits(n.total) || dead(n.addr) {
			continue
		}
		held := v.inflight[n.addr]
		free := n.base.Sub(held)
		if demand.Fits(free) {
			if best < 0 || free.CPU() > bestFree {
				best, bestFree = i, free.CPU()
			}
			continue
		}
		// Queued there: the least of this process's work per CPU.
		load := held.CPU() * 1000 / max(n.total.CPU(), 1)
		if queue < 0 || load < queueLoad {
			queue, queueLoad = i, load
		}
	}
	if best < 0 {
		best = queue
	}
	if best < 0 {
		return ""
	}
	return v.takeLocked(best, demand)
}

// takeLocked counts demand in flight at node i of the view, chosen for a
// task, and returns its address. v.mu is held.
func (v *localView) takeLocked(i int, demand resources.Resources) string {
	addr := v.nodes[i].addr
	if v.inflight == nil {
		v.inflight = map[string]resources.Resources{}
	}
	v.inflight[addr] = v.inflight[addr].Add(demand)
	v.placed.Add(1)
	return addr
}

// release gives back what pick counted in flight at addr.
func (v *localView) release(addr string, demand resources.Resources) {
	v.mu.Lock()
	defer v.mu.Unlock()
	left := v.inflight[addr].Sub(demand)
	if left.IsZero() {
		delete(v.inflight, addr)
		return
	}
	v.inflight[addr] = left
}

// addrs lists the addresses of the view's nodes.
func (v *localView) addrs() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]string, len(v.nodes))
	for i, n := range v.nodes {
		out[i] = n.addr
	}
	return out
}

// has reports whether addr is a node of the view (a head reported it
// alive).
func (v *localView) has(addr string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range v.nodes {
		if n.addr == addr {
			return true
		}
	}
	return false
}

// refreshView reads the view of the cluster from a head; a head that
// does not answer leaves the view as it was.
func (nw *network) refreshView() {
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	rep, err := nw.hc.GCS(ctx, wire.GCSView, nil)
	if err != nil {
		return
	}
	rows, err := wire.DecodeView(rep)
	if err != nil {
		return
	}
	nw.view.refresh(rows)
}

// placeOnView sends the plain tasks and the groups of a batch to the
// nodes the local view picks, sorting them into byAddr, and returns the
// items the head must place.
func (nw *network) placeOnView(batch []spillItem, byAddr dispatches) []spillItem {
	rest := batch[:0:0]
	for _, it := range batch {
		if !nw.plain(it) {
			rest = append(rest, it)
			continue
		}
		demand := it.demand()
		addr := nw.view.pick(demand, it.origin.ID, nw.isDead)
		if addr == "" {
			rest = append(rest, it)
			continue
		}
		nw.releaseWhenDone(it, addr, demand)
		if it.t != nil {
			nw.c.templates.remember(it.t.call, addr)
		}
		byAddr.add(addr, it)
	}
	return rest
}

// plain reports whether the local view may place an item: no placement
// hint, not placed again, no large argument held somewhere (the head's
// locality score would weigh it).
func (nw *network) plain(it spillItem) bool {
	if it.g != nil {
		return !holdsLargeArgs(it.g)
	}
	t := it.t
	return !t.viaHead && (t.hint == nil || *t.hint == placeHint{}) && len(nw.argBytesOf(t.call.Args)) == 0
}

// holdsLargeArgs reports whether a call of g takes a future whose result
// is too large to travel inline (argBytesOf would list it), call by call
// with no copy of the group's arguments; a call's future of the call
// before it, a fused chain's every argument, is the group's own and not
// looked at.
func holdsLargeArgs(g *taskGroup) bool {
	for i, t := range g.tasks {
		for _, a := range t.call.Args {
			if a.Kind() != exec.FutureKind {
				continue
			}
			o := objstore.ObjectOf(a.AsFuture())
			if o == nil || (i > 0 && o == g.tasks[i-1].obj) {
				continue
			}
			if _, size := o.WhereAndSize(); size > InlineLimit {
				return true
			}
		}
	}
	return false
}

// demand is what the item holds while it runs.
func (it spillItem) demand() resources.Resources {
	if it.g != nil {
		return it.g.demand
	}
	return it.t.demand
}

// releaseWhenDone releases what the item holds in the view at addr once
// its calls are all done.
func (nw *network) releaseWhenDone(it spillItem, addr string, demand resources.Resources) {
	if it.t != nil {
		it.t.obj.OnReady(func() { nw.view.release(addr, demand) })
		return
	}
	var left atomic.Int32
	left.Store(int32(len(it.g.tasks)))
	whenEachReady(it.g.tasks, func(*objstore.Object) { // one wait for the group, not one per call
		if left.Add(-1) == 0 {
			nw.view.release(addr, demand)
		}
	})
}
