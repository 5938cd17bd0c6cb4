package nodeagent

import (
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
)

// Node is one node: its resources, its local scheduler's queue of tasks
// whose dependencies are ready, the tasks running on it, and the actors
// it hosts.
type Node struct {
	ID      string
	cluster *Cluster

	mu       sync.Mutex
	resumed  *sync.Cond // signalled when resources are given back
	total    resources.Resources
	free     resources.Resources
	queue    []*task
	running  map[*task]struct{}
	resuming int // tasks back from get/wait waiting to take their CPU again
	actors   []*actorhost.Actor
	store    *objstore.Store
	workers  []bool // worker IDs in use, for the timeline
}

func newNode(c *Cluster, id string, total resources.Resources) *Node {
	n := &Node{ID: id, cluster: c, total: total, free: total, running: map[*task]struct{}{},
		store: objstore.New(c.cfg.ObjectStoreMemory, nodeDataDir(c.cfg.DataDir, id), safe.LogPanic)}
	n.resumed = sync.NewCond(&n.mu)
	return n
}

// newThread makes a thread that runs on this node.
func (n *Node) newThread(name, taskID string) *exec.Thread {
	c := n.cluster
	return &exec.Thread{
		Name:     name,
		TaskID:   taskID,
		NodeID:   n.ID,
		Runtime:  c,
		Print:    c.print,
		MaxSteps: c.cfg.MaxSteps,
		WorkDir:  c.cfg.WorkDir,
		Local:    map[string]any{localNode: n},
	}
}

const (
	localNode     = "rayflow.node"     // *Node the thread runs on
	localTask     = "rayflow.task"     // *task the thread runs, if any
	localOutput   = "rayflow.output"   // address where the thread's prints go, if not here
	localOutcomes = "rayflow.outcomes" // nondeterministic steps logged so far (uint64)
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
	th.Local[localOutput] = addr
	c := nw.c
	th.Print = func(_ *exec.Thread, text string) {
		if err := nw.pool.Send(addr, transport.Output, []byte(text)); err != nil {
			c.print(th, text) // the driver is gone: keep the output here
		}
	}
}

func nodeOf(th *exec.Thread) *Node {
	if n, ok := th.Local[localNode].(*Node); ok {
		return n
	}
	return nil
}

// state is what the global scheduler sees of this node.
func (n *Node) state() placement.NodeState {
	n.mu.Lock()
	defer n.mu.Unlock()
	return placement.NodeState{ID: n.ID, Alive: true, Total: n.total, Available: n.free,
		QueueLen: len(n.queue), Running: len(n.running)}
}

// schedule runs a task whose arguments are ready: on this node if it has
// room now and a short queue (the local scheduler's rule), otherwise
// wherever the global scheduler places it.
func (n *Node) schedule(t *task) {
	c := n.cluster
	if !placement.ShouldSpill(n.state(), t.demand, c.cfg.QueueLimit) {
		n.enqueue(t)
		return
	}
	c.scope.spill(t, n)
}

// enqueue adds a ready task to the local queue and starts what fits.
func (n *Node) enqueue(t *task) {
	n.mu.Lock()
	t.node = n
	t.queuedAt = time.Now()
	n.queue = append(n.queue, t)
	n.dispatchLocked()
	n.mu.Unlock()
}

// dispatchLocked starts queued tasks, in order, while their demand fits
// the free resources. Tasks resuming from get/wait go first.
func (n *Node) dispatchLocked() {
	for len(n.queue) > 0 && n.resuming == 0 {
		t := n.queue[0]
		if t.isCancelled() {
			n.queue = n.queue[1:]
			continue
		}
		if !t.demand.Fits(n.free) {
			return
		}
		n.queue[0] = nil
		n.queue = n.queue[1:]
		n.free = n.free.Sub(t.demand)
		n.running[t] = struct{}{}
		t.worker = n.takeWorkerLocked()
		go n.run(t)
	}
}

// release gives a task's resources back and starts what now fits.
func (n *Node) release(demand resources.Resources) {
	n.mu.Lock()
	n.free = n.free.Add(demand)
	if n.resuming > 0 {
		n.resumed.Broadcast()
	} else {
		n.dispatchLocked()
	}
	n.mu.Unlock()
}

// reacquire takes resources back for a task returning from get or wait,
// ahead of queued tasks.
func (n *Node) reacquire(demand resources.Resources) {
	n.mu.Lock()
	n.resuming++
	for !demand.Fits(n.free) {
		n.resumed.Wait()
	}
	n.resuming--
	n.free = n.free.Sub(demand)
	if n.resuming == 0 {
		n.dispatchLocked()
	}
	n.mu.Unlock()
}

// takeWorkerLocked returns the lowest free worker ID.
func (n *Node) takeWorkerLocked() int {
	for i, busy := range n.workers {
		if !busy {
			n.workers[i] = true
			return i
		}
	}
	n.workers = append(n.workers, true)
	return len(n.workers) - 1
}

func (n *Node) finished(t *task) {
	n.mu.Lock()
	delete(n.running, t)
	n.workers[t.worker] = false
	n.mu.Unlock()
	n.release(t.demand)
}

// cancelAll cancels every running task and stops every actor.
func (n *Node) cancelAll(reason string) {
	n.mu.Lock()
	running := make([]*task, 0, len(n.running))
	for t := range n.running {
		running = append(running, t)
	}
	queued := n.queue
	n.queue = nil
	actors := n.actors
	n.mu.Unlock()
	for _, t := range queued {
		t.cancel(reason)
	}
	for _, t := range running {
		t.cancel(reason)
	}
	for _, a := range actors {
		a.Stop(reason)
	}
}

// publish completes an object with a result made on this node. A large
// value is first counted by the node's object store, which may spill it
// (or others) to disk; a value that cannot be kept at all fails the
// object with the store's error.
func (n *Node) publish(o *object, val exec.Value, err *exec.Error) {
	if err == nil {
		big, serr := n.store.Add(o.name, val)
		switch {
		case serr != nil:
			val, err = exec.None, serr.(*exec.Error)
		case big != nil:
			o.mu.Lock()
			o.big = big
			o.mu.Unlock()
			val = exec.None // the store has it
		}
	}
	o.Complete(val, err, n.ID)
}
