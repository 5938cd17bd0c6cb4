package nodeagent

import (
	"sync"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/metrics"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/localsched"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/stdlib"
)

// Node is one node: its local scheduler (the queue of tasks whose
// dependencies are ready, the tasks running, the free resources), its
// object store, and the actors it hosts.
type Node struct {
	ID      string
	cluster *Cluster
	sched   *localsched.Scheduler
	store   *objstore.Store
	// tasks are the node's task counters by function, for /metrics
	// (metrics.go); the task path adds, the scrape reads.
	tasks metrics.FuncCounts

	mu     sync.Mutex
	actors []*actorhost.Actor

	// spareThreads holds threads whose tasks have returned (task.Run
	// puts them back), for the next tasks run here (threadFor): a task
	// does not make a thread, its map and its value stacks each time.
	spareThreads sync.Pool
}

func newNode(c *Cluster, id string, total resources.Resources) *Node {
	return &Node{ID: id, cluster: c, sched: localsched.New(total),
		store: objstore.New(c.cfg.ObjectStoreMemory, nodeDataDir(c.cfg.DataDir, id))}
}

// newThread makes a thread that runs on this node.
func (n *Node) newThread(name, taskID string) *exec.Thread {
	c := n.cluster
	return &exec.Thread{
		Name:     name,
		TaskID:   taskID,
		NodeID:   n.ID,
		Runtime:  c,
		Print:    c.printer,
		MaxSteps: c.cfg.MaxSteps,
		WorkDir:  c.cfg.WorkDir,
		Local:    map[string]any{localNode: n},
	}
}

// putSpareThread keeps th, whose task has returned and which nothing
// uses any more, for a later task on this node.
func (n *Node) putSpareThread(th *exec.Thread) {
	if th != nil {
		th.Scrub()
		clear(th.Local) // its task, and what the task held
		th.Print = nil
		n.spareThreads.Put(th)
	}
}

// threadFor is newThread, made from spare (a thread nothing uses any
// more) when there is one, else from one of the node's spare threads.
func (n *Node) threadFor(spare *exec.Thread, name, taskID string) *exec.Thread {
	if spare == nil {
		spare, _ = n.spareThreads.Get().(*exec.Thread)
	}
	if spare == nil {
		return n.newThread(name, taskID)
	}
	c := n.cluster
	spare.Reuse(name, taskID)
	spare.NodeID, spare.Runtime, spare.Print = n.ID, c, c.printer
	spare.MaxSteps, spare.WorkDir, spare.Yield = c.cfg.MaxSteps, c.cfg.WorkDir, nil
	clear(spare.Local)
	spare.Local[localNode] = n
	return spare
}

const (
	localNode     = "rayflow.node"     // *Node the thread runs on
	localTask     = "rayflow.task"     // *task the thread runs, if any
	localOutput   = "rayflow.output"   // address where the thread's prints go, if not here
	localOutcomes = "rayflow.outcomes" // nondeterministic steps logged so far (uint64)
	localActor    = "rayflow.actor"    // the ID of the actor the thread runs, if any (string)
)

// outputOf is where the prints of a thread, and of the tasks it starts, go.
func outputOf(th *exec.Thread) string {
	s, _ := th.Local[localOutput].(string)
	return s
}

// routeOutput sends a thread's prints to the driver at addr, unless that
// is this process.
func (c *Cluster) routeOutput(th *exec.Thread, addr string) { c.scope.routeOutput(th, addr) }

// routeOutput sends a thread's prints to the driver at addr, unless that
// is this process.
func (nw *network) routeOutput(th *exec.Thread, addr string) {
	if addr == "" || addr == nw.addr {
		return
	}
	if t, _ := th.Local[localTask].(*task); t != nil && t.group != nil {
		t.group.routeOutput(nw, th, addr) // group.go: one route for the group's calls
		return
	}
	r := nw.newOutputRoute(addr, jobOf(th.TaskID))
	r.set(th)
}

// outputRoute is what routeOutput sets on a thread whose prints go to
// the driver at addr, for a thread of job: the address (boxed once), the
// job's working directory, fetched from its driver, for io (workdir.go),
// and the printer.
type outputRoute struct {
	addr, job string
	boxed     any
	dir       func() (string, error)
	print     func(*exec.Thread, string)
}

func (nw *network) newOutputRoute(addr, job string) *outputRoute {
	c := nw.c
	return &outputRoute{addr: addr, job: job, boxed: addr, dir: nw.workdirs.dirOf(job, addr),
		print: func(th *exec.Thread, text string) {
			if err := nw.pool.Send(addr, transport.Output, []byte(text)); err != nil {
				c.print(th, text) // the driver is gone: keep the output here
			}
		}}
}

// set routes th's prints and io.
func (r *outputRoute) set(th *exec.Thread) {
	th.Local[localOutput] = r.boxed
	th.Local[stdlib.IOWorkDirKey] = r.dir
	th.Print = r.print
}

func nodeOf(th *exec.Thread) *Node {
	if n, ok := th.Local[localNode].(*Node); ok {
		return n
	}
	return nil
}

// state is what the global scheduler sees of this node.
func (n *Node) state() placement.NodeState {
	free, queued, running := n.sched.State()
	return placement.NodeState{ID: n.ID, Alive: true, Total: n.sched.Total(), Available: free,
		QueueLen: queued, Running: running}
}

// schedule runs a task whose arguments are ready: where its placement
// hint asks (scheduleByHint), else on this node if it has room now and a
// short queue (the local scheduler's rule), otherwise wherever the
// global scheduler places it.
func (n *Node) schedule(t *task) {
	if n.scheduleByHint(t) {
		return
	}
	if !n.wouldSpill(t.demand) {
		n.enqueue(t)
		return
	}
	n.cluster.scope.spill(t, n)
}

// wouldSpill reports whether work of this demand would leave the node:
// it has no room now or a long queue, and there is a cluster beyond it.
func (n *Node) wouldSpill(demand resources.Resources) bool {
	c := n.cluster
	// One node with no cluster beyond it has nowhere to spill to.
	if c.net == nil && len(c.nodes) == 1 {
		return false
	}
	return placement.ShouldSpill(n.state(), demand, c.cfg.QueueLimit)
}

// enqueue adds a ready task to the local queue and starts what fits.
func (n *Node) enqueue(t *task) {
	t.node = n
	n.cluster.noteQueued(t, n)
	n.sched.Enqueue(t)
}

// cancelAll cancels every queued and running task and stops every actor.
func (n *Node) cancelAll(reason string) {
	queued, running := n.sched.Drain()
	n.mu.Lock()
	actors := n.actors
	n.mu.Unlock()
	for _, w := range append(queued, running...) {
		for _, t := range tasksOf(w) {
			t.Cancel(reason)
		}
	}
	for _, a := range actors {
		a.Stop(reason)
	}
}

// publish completes an object with a result made on this node. A large
// value is first counted by the node's object store, which may spill it
// (or others) to disk; a value that cannot be kept at all fails the
// object with the store's error.
func (n *Node) publish(o *objstore.Object, val exec.Value, err *exec.Error) {
	if err == nil {
		// A large value counts against its job's memory cap (caps.go).
		owner := objstore.Owner{Job: jobOf(o.ID()), Node: n.ID, Caps: &n.cluster.caps}
		big, serr := n.store.AddFor(owner, o.Name(), val)
		switch {
		case serr != nil:
			val, err = exec.None, serr.(*exec.Error)
		case big != nil:
			o.SetBig(big)
			val = exec.None // the store has it
		}
	}
	o.Complete(val, err, n.ID)
}
