package nodeagent

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/planner/decision"
)

// One unit per node (decision.Site.PerNode, the rollouts bundle): the
// calls a caller made at such a site before it next used the runtime
// (one iteration's rollouts, gathered by its get) arrive here as one
// group, and are cut into as many units of consecutive calls as the
// cluster has slots for their demand (one per CPU for tasks of one CPU,
// at most one per call), each submitted as a group of its own: placed
// once (group units are placed on the local view by free resources, so
// they spread over the nodes), sent in one message, run on one worker
// and reported in one message (group_done.go). Each call keeps its own
// future, error, task ID and lineage (each unit has its group record).
// A group whose calls take one another's futures is not cut.

// SubmitGroup implements exec.GroupRuntime: it submits calls as units of
// scheduling and fills futs in order.
func (c *Cluster) SubmitGroup(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	units := c.perNodeUnits(calls, futs)
	if units <= 1 {
		return c.submitGroup(th, calls, futs)
	}
	// exec counted one group; run --explain counts the units sent.
	calls[0].Func.Program().PlanStats.Groups.Add(int64(units - 1))
	n := len(calls)
	cut := c.beginCut(calls, units)
	defer c.endCut(cut)
	for i := range units {
		lo, hi := i*n/units, (i+1)*n/units
		if err := c.submitGroup(th, calls[lo:hi], futs[lo:hi]); err != nil {
			return err
		}
	}
	return nil
}

// unitCut gathers the units of one cut that spill while SubmitGroup
// submits them, so that they go to the spiller as one item, placed and
// sent in one batch (each node its unit at once), rather than the first
// alone while the others wait for its round trip. A unit that spills
// later (its arguments became ready after) goes on its own.
type unitCut struct {
	firsts []*exec.TaskCall // each unit's first call, its key in network.cuts
	mu     sync.Mutex
	items  []spillItem
	closed bool
}

// beginCut registers the units of calls cut in units parts, on a
// networked cluster (nil elsewhere).
func (c *Cluster) beginCut(calls []*exec.TaskCall, units int) *unitCut {
	if c.net == nil {
		return nil
	}
	cut := &unitCut{firsts: make([]*exec.TaskCall, units)}
	for i := range units {
		cut.firsts[i] = calls[i*len(calls)/units]
		c.net.cuts.Store(cut.firsts[i], cut)
	}
	return cut
}

// endCut sends the units of the cut that spilled, in one item.
func (c *Cluster) endCut(cut *unitCut) {
	if cut == nil {
		return
	}
	for _, first := range cut.firsts {
		c.net.cuts.Delete(first)
	}
	cut.mu.Lock()
	items := cut.items
	cut.closed, cut.items = true, nil
	cut.mu.Unlock()
	if len(items) == 0 {
		return
	}
	select {
	case c.net.spillCh <- spillItem{units: items}:
	case <-c.net.stop:
		for _, it := range items {
			it.fail(exec.Errorf(exec.KindCancelled, "the node is stopping"))
		}
	}
}

// collectUnit keeps a spilling group of an open cut for the cut's one
// item; false when g is of no open cut.
func (nw *network) collectUnit(g *taskGroup, origin *Node) bool {
	v, ok := nw.cuts.Load(g.tasks[0].call)
	if !ok {
		return false
	}
	cut := v.(*unitCut)
	cut.mu.Lock()
	defer cut.mu.Unlock()
	if cut.closed {
		return false
	}
	cut.items = append(cut.items, spillItem{g: g, origin: origin})
	return true
}

// perNodeUnits is how many units calls are cut into: 1 unless they are
// of a PerNode site, take nothing from one another, and the cluster has
// room for more than one at a time.
func (c *Cluster) perNodeUnits(calls []*exec.TaskCall, futs []*exec.Future) int {
	if len(calls) < 2 || !perNodeSite(calls[0]) || takesMember(calls, futs) || !c.sameDemand(calls) {
		return 1
	}
	demand, _, err := c.demandFor(calls[0])
	if err != nil {
		return 1
	}
	return min(c.slotsFor(demand), len(calls))
}

// perNodeSite reports whether call's site cuts its groups per node.
func perNodeSite(call *exec.TaskCall) bool {
	if call.Func == nil || call.Site == nil || call.Func.Program() == nil {
		return false
	}
	d := call.Func.Program().Plan.Site(call.Site)
	return d != nil && d.PerNode && d.Group == decision.MaxGroup
}

// takesMember reports whether a call takes the future of a call of the
// same group.
func takesMember(calls []*exec.TaskCall, futs []*exec.Future) bool {
	var members map[*exec.Future]bool
	for _, call := range calls {
		for _, a := range call.Args {
			if a.Kind() != exec.FutureKind {
				continue
			}
			if members == nil {
				members = make(map[*exec.Future]bool, len(futs))
				for _, f := range futs {
					members[f] = true
				}
			}
			if members[a.AsFuture()] {
				return true
			}
		}
	}
	return false
}

// slotsFor is how many calls of demand the cluster can run at once: over
// every node (of the local view, on a networked cluster), how many times
// demand fits its total. At least 1.
func (c *Cluster) slotsFor(demand resources.Resources) int {
	slots := 0
	if c.net != nil {
		for _, total := range c.net.view.totals(c.net.isDead) {
			slots += fitsTimes(demand, total)
		}
	} else {
		for _, n := range c.nodes {
			slots += fitsTimes(demand, n.sched.Total())
		}
	}
	return max(slots, 1)
}

// fitsTimes is how many times demand fits in total, by its CPUs (a
// demand of no CPU counts once, if it fits at all).
func fitsTimes(demand, total resources.Resources) int {
	if !demand.Fits(total) {
		return 0
	}
	if demand.CPU() <= 0 {
		return 1
	}
	return int(total.CPU() / demand.CPU())
}

// totals are the total resources of the view's nodes that dead does not
// say are dead.
func (v *localView) totals(dead func(string) bool) []resources.Resources {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]resources.Resources, 0, len(v.nodes))
	for _, n := range v.nodes {
		if !dead(n.addr) {
			out = append(out, n.total)
		}
	}
	return out
}
