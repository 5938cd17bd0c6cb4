package nodeagent

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/fifo"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/stash"
)

// actor is a live actor on a node: its state and its mailbox. One
// goroutine runs its method calls one at a time, in the order they were
// queued, so calls from one caller run in call order.
type actor struct {
	id     string
	class  *exec.ActorClass
	node   *Node
	demand resources.Resources

	mu      sync.Mutex
	wake    *sync.Cond
	mailbox []*actorCall
	stopped bool
	orphans bool // no handle is left: stop once the mailbox is empty
	th      *exec.Thread
	inst    *exec.ActorInstance
	initErr *exec.Error
	order   uint64       // calls run so far, for the actor-order log
	restore []exec.Value // fields to start from (a checkpoint), instead of the constructor

	// For an actor hosted for another process: its incarnation and the
	// address of its creator.
	gen     int
	creator string
	// recent are the latest calls from other processes (by call ID, at
	// most dedupWindow; nil until the first): a call that arrives again
	// is answered from the first one instead of running twice.
	recent *fifo.Map[string, *object]
}

// dedupWindow is how many recent calls an actor remembers by ID. A call
// arrives twice when its caller sends it again after a failure: a task
// re-run on another node makes the same calls with the same IDs, and a
// process handed the actor sends its unanswered calls again after a
// restart whose replay may have run them already.
const dedupWindow = 1024

// actorState is where a recreated actor starts: the fields of a
// checkpoint and the number of calls it had run when it was taken.
type actorState struct {
	fields []exec.Value
	order  uint64
}

type actorCall struct {
	call       *exec.TaskCall
	obj        *object
	checkpoint bool // take a checkpoint of the fields instead of a call
}

// NewActor creates an actor on a node where its resources fit and
// returns its handle. The constructor runs on the actor's goroutine.
func (c *Cluster) NewActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	demand, err := resources.FromMap(call.Class.Info.Resources)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "actor %s: %v", call.Class.Name(), err)
	}
	if h, err := c.scope.newActor(th, call, demand); h != nil || err != nil {
		return h, err
	}
	n, err := c.placeActor(call.Class.Name(), demand, nodeOf(th))
	if err != nil {
		return nil, err
	}
	a := n.spawnActor(call, demand, outputOf(th), nil)
	h := &exec.ActorHandle{ID: call.ID, Class: call.Class, Handle: a}
	// When no handle is left, the actor finishes its queued calls and
	// stops, giving its resources back.
	runtime.AddCleanup(h, (*actor).orphan, a)
	return h, nil
}

// spawnActor starts an actor on this node, holding its resources.
func (n *Node) spawnActor(call *exec.TaskCall, demand resources.Resources, output string, from *actorState) *actor {
	c := n.cluster
	a := &actor{id: call.ID, class: call.Class, node: n, demand: demand}
	if from != nil {
		a.restore, a.order = from.fields, from.order
	}
	a.wake = sync.NewCond(&a.mu)
	a.th = n.newThread(call.Class.Name(), call.ID)
	c.routeOutput(a.th, output)
	n.mu.Lock()
	n.free = n.free.Sub(demand)
	n.actors = append(n.actors, a)
	n.mu.Unlock()
	c.stats.Actors.Add(1)
	c.recordLineage(call, n)
	go a.loop(call.Args)
	return a
}

// creatorAddr is the address of the process that created the actor:
// its creator's when hosted for another process, otherwise self.
func (a *actor) creatorAddr(self string) string {
	if a.creator != "" {
		return a.creator
	}
	return self
}

// enqueueCall adds a method call to the actor's mailbox. With dedup (a
// call from another process, which may arrive twice) a call the actor
// has among its recent ones is answered from the first instead. It
// reports false, leaving o alone, when the actor has stopped.
func (a *actor) enqueueCall(call *exec.TaskCall, o *object, dedup bool) bool {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return false
	}
	if dedup {
		if first := a.recentCall(call.ID); first != nil {
			a.mu.Unlock()
			first.onReady(func() {
				v, err := first.result()
				o.complete(v, err, a.node.ID)
			})
			return true
		}
		a.rememberLocked(call.ID, o)
	}
	a.mailbox = append(a.mailbox, &actorCall{call: call, obj: o})
	a.wake.Signal()
	a.mu.Unlock()
	a.node.cluster.stats.Submitted.Add(1)
	a.node.cluster.recordLineage(call, a.node)
	return true
}

// stoppedError is what a call on a stopped actor gets.
func (a *actor) stoppedError() *exec.Error {
	return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("actor %s has stopped", a.class.Name())}
}

// rememberLocked adds a call to the recent ones. The caller holds a.mu.
func (a *actor) rememberLocked(id string, o *object) {
	if a.recent == nil {
		a.recent = fifo.New[string, *object](dedupWindow)
	}
	a.recent.Add(id, o)
}

// recentCall returns the recent call with the given ID, or nil. The
// caller holds a.mu.
func (a *actor) recentCall(id string) *object {
	if a.recent == nil {
		return nil
	}
	o, _ := a.recent.Get(id)
	return o
}

// placeActor picks the node for a new actor: the caller's node when its
// resources are free there, otherwise the global scheduler's choice.
func (c *Cluster) placeActor(id string, demand resources.Resources, origin *Node) (*Node, error) {
	if err := c.feasible("(actor "+id+")", demand); err != nil {
		return nil, err
	}
	if origin != nil && demand.Fits(origin.state().Available) {
		return origin, nil
	}
	snap := &placement.Snapshot{}
	for _, n := range c.nodes {
		snap.Nodes = append(snap.Nodes, n.state())
	}
	d, err := placement.Place(placement.Request{TaskID: id, Demand: demand}, snap)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "%v", err)
	}
	return c.node(d.Node), nil
}

// CallMethod queues a method call in the actor's mailbox.
func (c *Cluster) CallMethod(th *exec.Thread, h *exec.ActorHandle, call *exec.TaskCall) (*exec.Future, error) {
	name := fmt.Sprintf("method %s", call.Func.Name())
	o := newObject(call.ID, name)
	switch a := h.Handle.(type) {
	case *actor:
		if !a.enqueueCall(call, o, false) {
			o.complete(exec.None, a.stoppedError(), "")
		}
	case *remoteActor:
		c.net.callRemote(a, call, o) // only a networked process has remote actors
	default:
		return nil, exec.Errorf(exec.KindInternal, "internal error: actor handle from another runtime")
	}
	return &exec.Future{ID: call.ID, Name: name, Handle: o}, nil
}

// loop builds the actor's state, then runs its mailbox until stopped.
func (a *actor) loop(ctorArgs []exec.Value) {
	c := a.node.cluster
	var err *exec.Error
	if a.restore != nil {
		// Recreated from a checkpoint: its fields come back as they were.
		a.inst = &exec.ActorInstance{Class: a.class, Fields: a.restore}
	} else {
		var args []exec.Value
		args, err = resolveArgs("actor "+a.class.Name(), ctorArgs)
		if err == nil {
			a.inst, err = a.class.Instantiate(a.th, args)
		}
	}
	if err != nil {
		markNode(err, a.node.ID)
		a.initErr = err
	}
	for {
		next, ok := a.next()
		if !ok {
			a.stop("actor " + a.class.Name() + " has no handles left")
			return
		}
		if a.initErr != nil {
			next.obj.complete(exec.None, &exec.Error{Kind: exec.KindTask, Pos: a.initErr.Pos, Stack: a.initErr.Stack,
				Node: a.node.ID, Msg: fmt.Sprintf("actor %s failed to start: %s", a.class.Name(), a.initErr.Msg)}, a.node.ID)
			continue
		}
		a.run(c, next)
	}
}

func (a *actor) next() (*actorCall, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.mailbox) == 0 && !a.stopped && !a.orphans {
		a.wake.Wait()
	}
	if a.stopped || len(a.mailbox) == 0 {
		return nil, false
	}
	next := a.mailbox[0]
	a.mailbox[0] = nil
	a.mailbox = a.mailbox[1:]
	return next, true
}

func (a *actor) run(c *Cluster, ac *actorCall) {
	defer failOnPanic(ac.obj)
	if ac.checkpoint {
		// A checkpoint is a copy of the fields, taken in mailbox order,
		// and the number of calls they reflect.
		fields := make([]exec.Value, len(a.inst.Fields))
		for i, f := range a.inst.Fields {
			fields[i] = exec.CopyValue(f)
		}
		a.node.publish(ac.obj, exec.ListOf([]exec.Value{exec.ListOf(fields), exec.Int(int64(a.order))}), nil)
		return
	}
	args, depErr := resolveArgs(ac.obj.name, ac.call.Args)
	if depErr != nil {
		c.stats.Failed.Add(1)
		ac.obj.complete(exec.None, depErr, a.node.ID)
		return
	}
	// The order in which an actor runs calls from different callers is
	// the nondeterministic step a replay needs: log it.
	a.order++
	c.lineage.outcome(stash.Outcome{TaskID: a.id, Seq: a.order - 1, Kind: stash.KindActorOrder, Data: []byte(ac.call.ID)})
	ac.obj.actorSeq.Store(a.order)
	c.stats.Running.Add(1)
	started := time.Now()
	val, err := ac.call.Func.RunMethod(a.th, a.inst, args)
	c.timeline.add(ac.call.Func.Name(), "method", a.node.ID, -1, ac.call.ID, started, time.Now(), err != nil)
	c.stats.Running.Add(-1)
	if err != nil {
		markNode(err, a.node.ID)
		c.stats.Failed.Add(1)
	} else {
		c.stats.Done.Add(1)
	}
	a.node.publish(ac.obj, val, err)
}

// stop ends the actor: queued calls fail, its resources return to the node.
func (a *actor) stop(reason string) {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	a.stopped = true
	pending := a.mailbox
	a.mailbox = nil
	a.wake.Broadcast()
	a.mu.Unlock()
	a.th.Cancel(reason)
	for _, ac := range pending {
		ac.obj.complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
	}
	a.node.release(a.demand)
	a.node.forget(a)
}

// orphan is called by the collector once no handle refers to the actor.
func (a *actor) orphan() {
	a.mu.Lock()
	a.orphans = true
	a.wake.Broadcast()
	a.mu.Unlock()
}

// Alive reports how many actors are running on the cluster's nodes.
func (c *Cluster) Alive() int {
	n := 0
	for _, node := range c.nodes {
		node.mu.Lock()
		for _, a := range node.actors {
			a.mu.Lock()
			if !a.stopped {
				n++
			}
			a.mu.Unlock()
		}
		node.mu.Unlock()
	}
	return n
}

// forget removes a stopped actor from its node.
func (n *Node) forget(a *actor) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, other := range n.actors {
		if other == a {
			n.actors = append(n.actors[:i], n.actors[i+1:]...)
			return
		}
	}
}

// actorCount is how many actors live on the node.
func (n *Node) actorCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.actors)
}
