package nodeagent

import (
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/metrics"
	"github.com/rayflow/rayflow/nodeagent/localsched"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/placement"
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
// other nodes) stays one unit: the global scheduler places it once, by
// its one demand, and it travels to its node in one message, a
// wire.GroupSubmit (group_submit.go); a group whose calls share too
// little for that form goes in one SubmitTask frame, each call a message
// of its own marked with the group's name (wire.Submit.Group). That node
// runs the calls in order on one worker slot, a call taking an earlier
// call's future finding the value there, and reports each call's result
// to its owner (net_remote.go, group_done.go).
//
// Nothing assumes a group survives: its owner remembers and awaits each
// call as a task of its own, so when the group's node dies each call is
// run again alone (a call waits for the earlier calls it takes; see
// respill), with its own lineage.

// taskGroup is one group in a node's local queue (a localsched.Work).
type taskGroup struct {
	tasks  []*task
	demand resources.Resources
	node   *Node
	run    groupRun
	// fused is set for a group another process sent that runs as one
	// task (group_fused.go): tasks then holds only the task that carries
	// its calls' thread context.
	fused *fusedRun
}

// groupRun is what the calls of one group share: each call's task points
// to it.
type groupRun struct {
	// spare is the thread the previous call ran on, for the next one;
	// only the worker running the group touches it.
	spare *exec.Thread
	// dones gathers, for a group another process sent here, the results
	// of its calls for their owner (group_done.go); nil otherwise.
	dones *doneList
	// route is where the prints of the calls go when a driver elsewhere
	// takes them (node.go's routeOutput), made by the first call that
	// needs it; only the worker running the group touches it.
	route *outputRoute
	// lastEnd is when the group's previous call ended: one clock
	// reading for that end and the next call's start (startOf); only the
	// worker running the group touches it.
	lastEnd time.Time
}

// routeOutput routes th's prints to the driver at addr as the group's
// earlier calls' were, making the route once for the group's calls of
// one job.
func (r *groupRun) routeOutput(nw *network, th *exec.Thread, addr string) {
	job := jobOf(th.TaskID)
	if r.route == nil || r.route.addr != addr || r.route.job != job {
		r.route = nw.newOutputRoute(addr, job)
	}
	r.route.set(th)
}

// add appends t to the group.
func (g *taskGroup) add(t *task) {
	t.group = &g.run
	g.tasks = append(g.tasks, t)
}

func (g *taskGroup) Demand() resources.Resources { return g.demand }

// Cancelled reports whether every call of the group was cancelled.
func (g *taskGroup) Cancelled() bool {
	if g.fused != nil {
		return false // each call reports, cancelled or not (runFused)
	}
	for _, t := range g.tasks {
		if !t.Cancelled() {
			return false
		}
	}
	return true
}

// Run runs the calls in order on one worker, each call on the thread the
// one before it ran on (a thread per call cost more than a small call);
// the last thread goes to the node's spare threads, as a task's alone
// does (task.Run).
func (g *taskGroup) Run(worker int) {
	if g.fused != nil {
		g.runFused(worker)
		return
	}
	n := g.node
	for _, t := range g.tasks {
		t.worker = worker
		n.runTask(t)
		// A call that never ran (a failed dependency) took no thread: the
		// spare waits for the next call.
		if th := t.release(); th != nil {
			g.run.spare = th
		}
	}
	n.putSpareThread(g.run.spare)
	g.run.spare = nil
}

// takeSpare takes the thread its group left for the task, if any.
func (t *task) takeSpare() *exec.Thread {
	if t.group == nil {
		return nil
	}
	th := t.group.spare
	t.group.spare = nil
	return th
}

// release takes back the thread the task ran on, once it has returned:
// from then on cancelling the task does not reach that thread.
func (t *task) release() *exec.Thread {
	t.mu.Lock()
	defer t.mu.Unlock()
	th := t.th
	t.th = nil
	return th
}

// submitGroup submits calls as one unit of scheduling and fills futs in
// order (SubmitGroup, place_units.go, may cut them into units first).
// Calls whose demands differ do not share a worker slot: they are
// submitted one by one.
func (c *Cluster) submitGroup(th *exec.Thread, calls []*exec.TaskCall, futs []*exec.Future) error {
	if c.reuse != nil || !c.sameDemand(calls) { // a job run again takes its calls one by one (reuse.go)
		return c.submitEach(th, calls, futs)
	}
	origin := nodeOf(th)
	g := &taskGroup{tasks: make([]*task, 0, len(calls))}
	var members map[*objstore.Object]bool // made when a call takes a member other than the one before it
	var outside []exec.Value              // the futures the group takes from outside it
	// The calls' task records in one allocation: they are made, run and
	// done with together (a record is kept past its call's end by no
	// one: its object drops it when it completes).
	records := make([]task, len(calls))
	by := submitterOf(th)
	made := groupMaker{c: c, by: by, origin: origin}
	var links chainLinks // the group's chain, for its lineage
	k, nargs := 0, argCount(calls)
	for i, call := range calls {
		t := made.task(&records[i], call)
		g.demand = t.demand
		for _, a := range call.Args {
			k++
			if a.Kind() != exec.FutureKind {
				continue
			}
			o := objstore.ObjectOf(a.AsFuture())
			if i > 0 && o == g.tasks[i-1].obj { // a fused chain
				links.mark(k-1, nargs)
				continue
			}
			if members == nil {
				members = g.members()
			}
			if !members[o] {
				outside = append(outside, a)
			}
		}
		if members != nil {
			members[t.obj] = true
		}
		g.add(t)
		*futs[i] = t.future()
	}
	made.count(g.tasks)
	if err := c.lineage.recordGroup(calls, links, origin.ID); err != nil {
		return exec.Errorf(exec.KindLost, "cannot write the lineage of %s to the GCS (--lineage=sync): %v", g.name(), err)
	}
	// Submitted: recorded and counted only now, as submit does after
	// newTask (a group not submitted never ends, and stays in flight).
	c.noteGroupSubmitted(g.tasks)
	c.countGroupAtDriver(g.tasks)
	c.watchDropsOf(futs)
	whenArgsReady(outside, func() { c.startGroup(origin, g) })
	return nil
}

// groupMaker makes the task records of a group's calls (newTaskIn for
// calls whose demands sameDemand found feasible and equal): the demand
// and the counters of a callee are looked up once for a run of its
// calls, not once a call, and the calls are counted submitted at once
// (count).
type groupMaker struct {
	c      *Cluster
	by     submitter
	origin *Node
	callee any // of the calls of the current run
	entry  demandEntry
	counts *metrics.TaskCounts
	run    int64 // the current run's calls not counted yet
	all    int64
}

// task makes call's task in t, a zero record.
func (m *groupMaker) task(t *task, call *exec.TaskCall) *task {
	if k := callee(call); k != m.callee || m.counts == nil {
		m.flushRun()
		m.callee = k
		m.entry = m.c.demandEntryOf(call)
		m.counts = m.origin.taskCounts(call.Name())
	}
	t.init(m.by, call, m.entry.demand, m.entry.name)
	t.obj.SetProducer(t)
	m.run++
	m.all++
	return t
}

// flushRun counts the current run's calls submitted for their callee.
func (m *groupMaker) flushRun() {
	if m.run > 0 {
		m.counts.Submitted.Add(m.run)
		m.run = 0
	}
}

// count counts every call made submitted, then stops those whose
// caller's subtree was cancelled (they never start), as newTaskIn does.
func (m *groupMaker) count(tasks []*task) {
	m.flushRun()
	m.c.stats.Submitted.Add(m.all)
	for _, t := range tasks {
		m.c.stopIfCancelled(t)
	}
}

// whenEachReady calls fn with the object of each of tasks, a group's
// calls, once it is ready. The calls of a group end in order, so it
// waits for the last one's object only (one waiter for the group, not
// one per call), and then calls fn at once for each object ready,
// waiting on its own only for one that is not (a call run again).
func whenEachReady(tasks []*task, fn func(o *objstore.Object)) {
	if len(tasks) == 0 {
		return
	}
	tasks[len(tasks)-1].obj.OnReady(func() {
		for _, t := range tasks {
			if o := t.obj; o.IsReady() {
				fn(o)
			} else {
				o.OnReady(func() { fn(o) })
			}
		}
	})
}

// watchDropsOf watches the futures of a group's calls for their
// collection (watchDrop) once the group's last call is done, and then
// only those whose result is not here, inline: dropping such a future
// releases nothing (objstore.Object.Drop), and a cleanup per future was
// a tenth of the driver's CPU in a fused chain. A result not in yet then
// (a call run again) is watched as any. The group holds its futures
// until its last call is done, no longer.
func (c *Cluster) watchDropsOf(futs []*exec.Future) {
	if c.net == nil || c.cfg.KeepResults || len(futs) == 0 {
		return
	}
	last := objstore.ObjectOf(futs[len(futs)-1])
	if last == nil {
		for _, f := range futs {
			c.watchDrop(f)
		}
		return
	}
	last.OnReady(func() {
		for _, f := range futs {
			if o := objstore.ObjectOf(f); o != nil && (!o.IsReady() || o.RemoteLocation() != "") {
				c.watchDrop(f)
			}
		}
	})
}

// sameDemand reports whether every call can run (its demand is feasible)
// and all need the same resources.
func (c *Cluster) sameDemand(calls []*exec.TaskCall) bool {
	first, _, err := c.demandFor(calls[0])
	if err != nil {
		return false
	}
	for i, call := range calls[1:] {
		if callee(call) == callee(calls[i]) {
			continue // demands are the callee's (demandFor)
		}
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
		got, err := c.submit(th, call)
		if err != nil {
			return err
		}
		*futs[i] = *got
		c.watchDrop(futs[i])
	}
	return nil
}

// startGroup queues a group whose outside arguments are ready: on its
// origin node, or, when it would spill, where the global scheduler
// places it.
func (c *Cluster) startGroup(origin *Node, g *taskGroup) {
	for _, t := range g.tasks {
		c.stopIfCancelled(t)
	}
	if g.Cancelled() {
		return
	}
	if origin.wouldSpill(g.demand) {
		c.scope.spillGroup(g, origin)
		return
	}
	origin.enqueueGroup(g)
}

// enqueueGroup adds a group whose outside arguments are ready to the
// node's local queue.
func (n *Node) enqueueGroup(g *taskGroup) {
	g.node = n
	for _, t := range g.tasks {
		t.node = n
	}
	n.sched.Enqueue(g)
}

// name is how the group is named to the global scheduler: by its first
// call.
func (g *taskGroup) name() string { return g.tasks[0].obj.Name() }

// args lists the arguments of every call of the group.
func (g *taskGroup) args() []exec.Value {
	n := 0
	for _, t := range g.tasks {
		n += len(t.call.Args)
	}
	args := make([]exec.Value, 0, n)
	for _, t := range g.tasks {
		args = append(args, t.call.Args...)
	}
	return args
}

// members are the objects of the group's calls.
func (g *taskGroup) members() map[*objstore.Object]bool {
	m := make(map[*objstore.Object]bool, len(g.tasks))
	for _, t := range g.tasks {
		m[t.obj] = true
	}
	return m
}

// fail completes every call of the group with err.
func (g *taskGroup) fail(err *exec.Error) {
	for _, t := range g.tasks {
		t.obj.Complete(exec.None, err, "")
	}
}

// tasksOf lists the tasks of a local queue's work: one task or a group.
func tasksOf(w localsched.Work) []*task {
	if g, ok := w.(*taskGroup); ok {
		return g.tasks
	}
	return []*task{w.(*task)}
}

// spillGroup places the group as one unit, by its one demand, on the
// in-process node the global scheduler's rule picks.
func (s localScope) spillGroup(g *taskGroup, origin *Node) {
	c := s.c
	d, err := placement.Place(placement.Request{TaskID: g.tasks[0].call.ID, Demand: g.demand, Origin: origin.ID}, c.snapshot())
	if err != nil {
		origin.enqueueGroup(g) // cannot happen for calls that passed the feasibility check at submit
		return
	}
	c.node(d.Node).enqueueGroup(g)
}
