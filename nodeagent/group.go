package nodeagent

import (
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/localsched"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Groups of calls (the planner's batch and fuse decisions, sent by exec
// through SubmitGroup). Every call of a group is a task of its own, with
// its own object, lineage and error, exactly as if it were submitted
// alone; what the group changes is scheduling: the group waits for the
// futures it takes from outside, then is queued and dispatched once, and
// its calls run one after the other on one worker slot. A call that
// takes the result of an earlier call of the group finds it complete
// when its turn comes, so a fused chain runs without a round trip
// through the queue between its calls.
//
// A group that would spill (its node has no room, and the cluster has
// other nodes) is not kept together: each call is scheduled alone, so a
// group never does worse than its calls would.

// taskGroup is one group in a node's local queue (a localsched.Work).
type taskGroup struct {
	tasks  []*task
	demand resources.Resources
	node   *Node
}

func (g *taskGroup) Demand() resources.Resources { return g.demand }

// Cancelled reports whether every call of the group was cancelled.
func (g *taskGroup) Cancelled() bool {
	for _, t := range g.tasks {
		if !t.Cancelled() {
			return false
		}
	}
	return true
}

// Run runs the calls in order on one worker.
func (g *taskGroup) Run(worker int) {
	n := g.node
	defer n.sched.Finished(g)
	for _, t := range g.tasks {
		t.worker = worker
		n.runTask(t)
	}
}

// SubmitGroup implements exec.GroupRuntime: it submits calls as one unit
// of scheduling and fills futs in order. Calls whose demands differ do
// not share a worker slot: they are submitted one by one.
func (c *Cluster) SubmitGroup(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	if !c.sameDemand(calls) {
		return c.submitEach(th, calls, futs)
	}
	origin := nodeOf(th)
	g := &taskGroup{tasks: make([]*task, 0, len(calls))}
	members := make(map[*objstore.Object]bool, len(calls))
	var outside []exec.Value // the futures the group takes from outside it
	for i, call := range calls {
		demand, name, _ := c.demandFor(call)
		g.demand = demand
		t := &task{call: call, obj: objstore.NewObject(call.ID, name), demand: demand, output: outputOf(th)}
		t.obj.SetProducer(t)
		c.stats.Submitted.Add(1)
		if err := c.recordLineage(call, origin); err != nil {
			return exec.Errorf(exec.KindLost, "cannot write the lineage of %s to the GCS (--lineage=sync): %v", name, err)
		}
		for _, a := range call.Args {
			if a.Kind() == exec.FutureKind && !members[objstore.ObjectOf(a.AsFuture())] {
				outside = append(outside, a)
			}
		}
		members[t.obj] = true
		g.tasks = append(g.tasks, t)
		*futs[i] = exec.Future{ID: call.ID, Name: name, Handle: t.obj}
	}
	whenArgsReady(outside, func() { c.startGroup(origin, g) })
	return nil
}

// sameDemand reports whether every call can run (its demand is feasible)
// and all need the same resources.
func (c *Cluster) sameDemand(calls []*exec.TaskCall) bool {
	first, _, err := c.demandFor(calls[0])
	if err != nil {
		return false
	}
	for _, call := range calls[1:] {
		d, _, err := c.demandFor(call)
		if err != nil || !equalDemand(d, first) {
			return false
		}
	}
	return true
}

func equalDemand(a, b resources.Resources) bool {
	return a.Fits(b) && b.Fits(a)
}

// submitEach submits the calls one by one, in order.
func (c *Cluster) submitEach(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	for i, call := range calls {
		got, err := c.Submit(th, call)
		if err != nil {
			return err
		}
		*futs[i] = *got
	}
	return nil
}

// startGroup queues a group whose outside arguments are ready, or, when
// it would spill, each of its calls alone.
func (c *Cluster) startGroup(origin *Node, g *taskGroup) {
	if g.Cancelled() {
		return
	}
	if origin.wouldSpill(g.demand) {
		for _, t := range g.tasks {
			whenArgsReady(t.call.Args, func() { c.startTask(origin, t) })
		}
		return
	}
	g.node = origin
	for _, t := range g.tasks {
		t.node = origin
	}
	origin.sched.Enqueue(g)
}

// tasksOf lists the tasks of a local queue's work: one task or a group.
func tasksOf(w localsched.Work) []*task {
	if g, ok := w.(*taskGroup); ok {
		return g.tasks
	}
	return []*task{w.(*task)}
}
