package nodeagent

import (
	"maps"
	"runtime"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/stash"
)

// Actors on this process's nodes live in package actorhost (mailbox,
// order, dedup window, checkpoints, stop); this file places and starts
// them, queues calls on them, and is the node they run on (actorNode).

// NewActor creates an actor on a node where its resources fit and
// returns its handle. The constructor runs on the actor's goroutine.
func (c *Cluster) NewActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	if call.Class.Info != nil && call.Class.Info.ActorName != "" {
		return c.newNamedActor(th, call)
	}
	return c.newActor(th, call)
}

// newActor creates an actor, named or not.
func (c *Cluster) newActor(th *exec.Thread, call *exec.TaskCall) (*exec.ActorHandle, error) {
	demand, err := resources.FromMap(call.Class.Info.Resources)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "actor %s: %v", call.Class.Name(), err)
	}
	if h, err := c.scope.newActor(th, call, demand); h != nil || err != nil {
		if h != nil {
			c.countActorAtDriver()
		}
		return h, err
	}
	n, err := c.placeActor(call.Class.Name(), demand, nodeOf(th), actorSpread(call.Class))
	if err != nil {
		return nil, err
	}
	a := n.spawnActor(call, demand, outputOf(th), nil, 0, "")
	h := &exec.ActorHandle{ID: call.ID, Class: call.Class, Handle: a}
	// When no handle is left, the actor finishes its queued calls and
	// stops, giving its resources back.
	runtime.AddCleanup(h, (*actorhost.Actor).Orphan, a)
	return h, nil
}

// spawnActor starts an actor on this node, holding its resources. gen and
// creator are set for an actor hosted for another process.
func (n *Node) spawnActor(call *exec.TaskCall, demand resources.Resources, output string, from *actorhost.State, gen int, creator string) *actorhost.Actor {
	c := n.cluster
	th := n.newThread(call.Class.Name(), call.ID)
	lim := c.limitsOf(call) // the job's, shipped with its program
	c.caps.note(jobOf(call.ID), lim.maxMemory)
	th.MaxSteps = lim.maxSteps
	th.Local[localActor] = call.ID // a cancelled subtree stops here (cancel.go)
	c.routeOutput(th, output)
	// The thread of one call of a concurrent actor: as the actor's, its
	// calls numbered under the call's ID. A spare thread (an earlier
	// call's) gets back the locals and print route the first call thread
	// was made with, and nothing a call put there since.
	var first *exec.Thread // the first call thread as made; the calls' goroutines share it read-only
	var firstLocal map[string]any
	callThread := func(callID string, spare *exec.Thread) *exec.Thread {
		if spare == nil || first == nil {
			t := n.newThread(call.Class.Name(), callID)
			t.MaxSteps = th.MaxSteps
			t.Local[localActor] = call.ID
			c.routeOutput(t, output)
			if first == nil {
				first, firstLocal = t, maps.Clone(t.Local)
			}
			return t
		}
		spare.Reuse(call.Class.Name(), callID)
		spare.MaxSteps, spare.Print = th.MaxSteps, first.Print
		clear(spare.Local)
		maps.Copy(spare.Local, firstLocal)
		return spare
	}
	a := actorhost.New(actorhost.Spec{ID: call.ID, Class: call.Class, Demand: demand, Thread: th,
		Node: actorNode{n}, From: from, Gen: gen, Creator: creator, NewThread: callThread})
	n.sched.Hold(demand)
	n.mu.Lock()
	n.actors = append(n.actors, a)
	n.mu.Unlock()
	c.stats.Actors.Add(1)
	c.noteActor(call.ID, call.Class, n.ID, gen, taskevents.Alive)
	c.recordLineage(call, n)
	a.Start(call.Args)
	return a
}

// actorNode is the node an actor runs on, as the actor sees it.
type actorNode struct{ n *Node }

func (an actorNode) ID() string { return an.n.ID }

// ResolveArgs returns args themselves when none is a future: a method
// run and a constructor copy their arguments into frames of their own,
// and nothing writes into a queued call's arguments.
func (an actorNode) ResolveArgs(what string, args []exec.Value) ([]exec.Value, *exec.Error) {
	if hasFuture(args) {
		return resolveArgs(what, args)
	}
	return args, nil
}

func (an actorNode) Accepted(call *exec.TaskCall) {
	an.n.cluster.stats.Submitted.Add(1)
	if call.Func == nil || call.Func.Class == nil || call.Func.Class.Info.ReplaysCalls() {
		an.n.cluster.recordLineage(call, an.n) // a served actor's restart replays nothing
	}
}

func (an actorNode) LogOrder(actorID string, seq uint64, callID string) {
	an.n.cluster.lineage.outcome(stash.Outcome{TaskID: actorID, Seq: seq, Kind: stash.KindActorOrder, Data: []byte(callID)})
}

func (an actorNode) MethodStarted() { an.n.cluster.stats.Running.Add(1) }

func (an actorNode) MethodDone(name, callID string, started time.Time, err *exec.Error) {
	c := an.n.cluster
	c.noteMethod(name, callID, an.n.ID, started, err)
	c.stats.Running.Add(-1)
	if err != nil {
		c.stats.Failed.Add(1)
	} else {
		c.stats.Done.Add(1)
	}
}

func (an actorNode) DependencyFailed() { an.n.cluster.stats.Failed.Add(1) }

func (an actorNode) Publish(r actorhost.Result, val exec.Value, err *exec.Error) {
	an.n.publish(r.(*objstore.Object), val, err)
}

func (an actorNode) Stopped(a *actorhost.Actor) {
	an.n.sched.Unhold(a.Demand())
	an.n.forget(a)
	an.n.cluster.noteActor(a.ID(), a.Class(), an.n.ID, a.Gen(), taskevents.Dead)
}

func (an actorNode) Crashed(r actorhost.Result, p any) { internalError(r.(*objstore.Object), p) }

// placeActor picks the node for a new actor: the caller's node when its
// resources are free there, otherwise the global scheduler's choice;
// round-robin over the nodes with room for a class with a spread key.
func (c *Cluster) placeActor(id string, demand resources.Resources, origin *Node, spread string) (*Node, error) {
	if err := c.feasible("actor "+id, demand); err != nil { // named as a cluster names it
		return nil, err
	}
	if origin != nil && spread == "" && demand.Fits(origin.state().Available) {
		return origin, nil
	}
	snap := &placement.Snapshot{}
	for _, n := range c.nodes {
		snap.Nodes = append(snap.Nodes, n.state())
	}
	d, err := c.spread.place(placement.Request{TaskID: id, Demand: demand, Spread: spread}, snap)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "%v", err)
	}
	return c.node(d.Node), nil
}

// CallMethod queues a method call in the actor's mailbox.
func (c *Cluster) CallMethod(th *exec.Thread, h *exec.ActorHandle, call *exec.TaskCall) (*exec.Future, error) {
	name := "method " + call.Func.Name()
	o := objstore.NewObject(call.ID, name)
	switch a := h.Handle.(type) {
	case *actorhost.Actor:
		if !a.Enqueue(call, o, false) {
			o.Complete(exec.None, a.StoppedError(), "")
		}
	case *owner.Actor:
		c.countCallAtDriver(o)
		c.net.ow.CallRemote(a, call, o) // only a networked process has remote actors
	default:
		return nil, exec.Errorf(exec.KindInternal, "internal error: actor handle from another runtime")
	}
	return &exec.Future{Handle: o}, nil
}

// Alive reports how many actors are running on the cluster's nodes.
func (c *Cluster) Alive() int {
	n := 0
	for _, node := range c.nodes {
		node.mu.Lock()
		for _, a := range node.actors {
			if !a.Stopped() {
				n++
			}
		}
		node.mu.Unlock()
	}
	return n
}

// forget removes a stopped actor from its node.
func (n *Node) forget(a *actorhost.Actor) {
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
