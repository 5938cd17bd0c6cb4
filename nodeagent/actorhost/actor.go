package actorhost

import (
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/fifo"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Result is where a call's result goes (the node agent's object): the
// actor completes it, and answers a repeated call from the first one's.
type Result interface {
	Complete(val exec.Value, err *exec.Error, node string) bool
	OnReady(f func())
	Result() (exec.Value, *exec.Error)
	// Name says what makes it, for messages ("method inc").
	Name() string
	// SetOrder records the call's place in the order the actor ran its
	// calls, plus one.
	SetOrder(seq uint64)
}

// Node is what an actor needs from the node it lives on.
type Node interface {
	ID() string
	// ResolveArgs waits for the futures among a call's arguments and
	// returns their values.
	ResolveArgs(what string, args []exec.Value) ([]exec.Value, *exec.Error)
	// Accepted is told of each call that enters the mailbox (counts and
	// lineage).
	Accepted(call *exec.TaskCall)
	// LogOrder logs that the actor ran call callID as its seq-th call
	// (from 0): the nondeterministic step its replay needs.
	LogOrder(actorID string, seq uint64, callID string)
	// MethodStarted and MethodDone bracket each method run (counts and
	// the timeline); DependencyFailed counts a call whose argument failed.
	MethodStarted()
	MethodDone(name, callID string, started time.Time, err *exec.Error)
	DependencyFailed()
	// Publish completes a result made on the node, counting a large value
	// in the node's object store.
	Publish(r Result, val exec.Value, err *exec.Error)
	// Stopped is told once the actor has stopped: its resources go back.
	Stopped(a *Actor)
	// Crashed fails a call's result after a bug panicked while it ran,
	// instead of crashing the process.
	Crashed(r Result, p any)
}

// State is where a recreated actor starts: the fields of a checkpoint and
// the number of calls it had run when it was taken.
type State struct {
	Fields []exec.Value
	Order  uint64
}

// Spec says what actor to start and where.
type Spec struct {
	ID     string
	Class  *exec.ActorClass
	Demand resources.Resources // held while it lives
	Thread *exec.Thread        // the thread its constructor and methods run on
	Node   Node
	From   *State // a checkpoint to start from, instead of the constructor
	// For an actor hosted for another process: its incarnation and the
	// address of its creator.
	Gen     int
	Creator string
	// NewThread makes the thread of one method call of a concurrent
	// actor (@concurrency(n), n > 1), named by the call's ID; unused for
	// other actors, whose calls all run on Thread. spare, when not nil,
	// is the thread of an earlier call of the actor that has returned
	// (scrubbed, which nothing uses any more) for NewThread to make ready
	// again (exec.Thread.Reuse) and return instead of a new one. Calls
	// to it never overlap.
	NewThread func(callID string, spare *exec.Thread) *exec.Thread
}

// DedupWindow is how many recent calls an actor remembers by ID. A call
// arrives twice when its caller sends it again after a failure: a task
// re-run on another node makes the same calls with the same IDs, and a
// process handed the actor sends its unanswered calls again after a
// restart whose replay may have run them already.
const DedupWindow = 1024

// Actor is a live actor on a node: its state and its mailbox. One
// goroutine runs its method calls one at a time, in the order they were
// queued, so calls from one caller run in call order.
type Actor struct {
	id      string
	class   *exec.ActorClass
	node    Node
	demand  resources.Resources
	gen     int
	creator string
	th      *exec.Thread // the actor's goroutine's alone, but for Cancel
	// callNames name the calls of each method ("method Class.m"), made
	// once; read by any goroutine.
	callNames map[string]string

	mu      sync.Mutex
	wake    *sync.Cond
	mailbox []*call
	stopped bool
	killed  string // why it was killed (kill, rayflow actor stop), if it was
	orphans bool   // no handle is left: stop once the mailbox is empty
	// ready: a concurrent actor's state is built without error. While
	// ready and the mailbox is empty, Enqueue starts a call itself when
	// a slot is free (the call is next in mailbox order), sparing the
	// hand-off to the actor's goroutine; and a call that returns while
	// the mailbox holds calls runs the first itself (concurrent.go).
	ready bool
	// For tests: the calls Enqueue started itself, and those that
	// returning calls took from the mailbox.
	direct, continued uint64
	// recent are the latest calls from other processes (by call ID, at
	// most DedupWindow; nil until the first): a call that arrives again
	// is answered from the first one instead of running twice.
	recent *fifo.Map[string, Result]

	// The actor's goroutine's alone.
	inst    *exec.ActorInstance
	initErr *exec.Error
	order   uint64       // calls run so far, for the actor-order log
	restore []exec.Value // fields to start from (a checkpoint), instead of the constructor

	// conc is how a concurrent actor runs its calls (nil for the others,
	// whose calls run one at a time on the actor's goroutine).
	conc *concurrent
}

// call is one entry of the mailbox: a method call, or a checkpoint.
type call struct {
	call       *exec.TaskCall
	res        Result
	checkpoint bool // take a checkpoint of the fields instead of a call
	// args, when set, are the call's arguments resolved already (a
	// concurrent actor's call waits for them before it takes the actor).
	args    []exec.Value
	argsErr *exec.Error
}

// New makes the actor of spec; Start starts it.
func New(spec Spec) *Actor {
	a := &Actor{id: spec.ID, class: spec.Class, node: spec.Node, demand: spec.Demand,
		gen: spec.Gen, creator: spec.Creator, th: spec.Thread}
	if spec.From != nil {
		a.restore, a.order = spec.From.Fields, spec.From.Order
	}
	a.callNames = make(map[string]string, len(spec.Class.Methods))
	for m := range spec.Class.Methods {
		a.callNames[m] = "method " + spec.Class.Name() + "." + m
	}
	a.wake = sync.NewCond(&a.mu)
	if spec.Class.Info != nil && spec.Class.Info.Concurrency > 1 && spec.NewThread != nil {
		n := spec.Class.Info.Concurrency
		a.conc = newConcurrent(n, spec.NewThread)
	}
	return a
}

// Start starts the actor's goroutine, which runs the constructor with
// ctorArgs (or restores the state it was made from), then its mailbox.
func (a *Actor) Start(ctorArgs []exec.Value) { go a.loop(ctorArgs) }

// ID, Class, Demand and Gen are fixed when the actor starts.
func (a *Actor) ID() string                  { return a.id }
func (a *Actor) Class() *exec.ActorClass     { return a.class }
func (a *Actor) Demand() resources.Resources { return a.demand }
func (a *Actor) Gen() int                    { return a.gen }

// CallName names a call of method, as its caller does ("method Class.m"),
// for messages.
func (a *Actor) CallName(method string) string {
	if name, ok := a.callNames[method]; ok {
		return name
	}
	return "method " + a.class.Name() + "." + method
}

// NodeID is the node the actor lives on.
func (a *Actor) NodeID() string { return a.node.ID() }

// CreatorAddr is the address of the process that created the actor: its
// creator's when hosted for another process, otherwise self.
func (a *Actor) CreatorAddr(self string) string {
	if a.creator != "" {
		return a.creator
	}
	return self
}

// HostedFor reports whether the actor is this process's own or was
// created here by the process at owner.
func (a *Actor) HostedFor(owner string) bool { return a.creator == "" || a.creator == owner }

// Enqueue adds a method call to the mailbox. With dedup (a call from
// another process, which may arrive twice) a call the actor has among its
// recent ones is answered from the first instead. It reports false,
// leaving r alone, when the actor has stopped.
func (a *Actor) Enqueue(c *exec.TaskCall, r Result, dedup bool) bool {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return false
	}
	if dedup {
		if first := a.recentCall(c.ID); first != nil {
			a.mu.Unlock()
			first.OnReady(func() {
				v, err := first.Result()
				r.Complete(v, err, a.node.ID())
			})
			return true
		}
		a.rememberLocked(c.ID, r)
	}
	ac := &call{call: c, res: r}
	if a.ready && len(a.mailbox) == 0 && !a.orphans && a.conc.tryStart(a, ac) {
		// Started here, under a.mu: the actor's goroutine sees the
		// running call (conc.running) before it can find the mailbox
		// empty and drain.
		a.direct++
		a.mu.Unlock()
		a.node.Accepted(c)
		return true
	}
	a.mailbox = append(a.mailbox, ac)
	a.wake.Signal()
	a.mu.Unlock()
	a.node.Accepted(c)
	return true
}

// EnqueueCheckpoint queues, in mailbox order, a copy of the actor's
// fields and the number of calls they reflect, published to r as
// [fields, count]. It reports false when the actor has stopped.
func (a *Actor) EnqueueCheckpoint(id string, r Result) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return false
	}
	a.mailbox = append(a.mailbox, &call{call: &exec.TaskCall{ID: id}, res: r, checkpoint: true})
	a.wake.Signal()
	return true
}

// StoppedError is what a call on a stopped actor gets.
func (a *Actor) StoppedError() *exec.Error {
	a.mu.Lock()
	killed := a.killed
	a.mu.Unlock()
	if killed != "" {
		return &exec.Error{Kind: exec.KindCancelled, Msg: killed}
	}
	return &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("actor %s has stopped", a.class.Name())}
}

// Stopped reports whether the actor has stopped.
func (a *Actor) Stopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stopped
}

// rememberLocked adds a call to the recent ones. The caller holds a.mu.
func (a *Actor) rememberLocked(id string, r Result) {
	if a.recent == nil {
		a.recent = fifo.New[string, Result](DedupWindow)
	}
	a.recent.Add(id, r)
}

// recentCall returns the recent call with the given ID, or nil. The
// caller holds a.mu.
func (a *Actor) recentCall(id string) Result {
	if a.recent == nil {
		return nil
	}
	r, _ := a.recent.Get(id)
	return r
}

// loop builds the actor's state, then runs its mailbox until stopped.
func (a *Actor) loop(ctorArgs []exec.Value) {
	var err *exec.Error
	if a.restore != nil {
		// Recreated from a checkpoint: its fields come back as they were.
		a.inst = &exec.ActorInstance{Class: a.class, Fields: a.restore}
	} else {
		var args []exec.Value
		args, err = a.node.ResolveArgs("actor "+a.class.Name(), ctorArgs)
		if err == nil {
			a.inst, err = a.class.Instantiate(a.th, args)
		}
	}
	if err != nil {
		err.MarkNode(a.node.ID())
		a.initErr = err
	}
	if a.conc != nil && a.initErr == nil {
		a.mu.Lock()
		a.ready = true
		a.mu.Unlock()
	}
	for {
		if a.conc != nil && a.initErr == nil {
			if !a.dispatch() {
				a.conc.drain() // the calls still running finish first
				a.Stop("actor " + a.class.Name() + " has no handles left")
				return
			}
			continue
		}
		next, ok := a.next()
		if !ok {
			a.conc.drain() // the calls still running finish first
			a.Stop("actor " + a.class.Name() + " has no handles left")
			return
		}
		if a.initErr != nil {
			next.res.Complete(exec.None, &exec.Error{Kind: exec.KindTask, Pos: a.initErr.Pos, Stack: a.initErr.Stack,
				Node: a.node.ID(), Msg: fmt.Sprintf("actor %s failed to start: %s", a.class.Name(), a.initErr.Msg)}, a.node.ID())
			continue
		}
		a.run(next)
	}
}

func (a *Actor) next() (*call, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.mailbox) == 0 && !a.stopped && !a.orphans {
		a.wake.Wait()
	}
	if a.stopped || len(a.mailbox) == 0 {
		return nil, false
	}
	return a.popLocked(), true
}

// popLocked takes the mailbox's first entry. The caller holds a.mu and
// the mailbox is not empty.
func (a *Actor) popLocked() *call {
	next := a.mailbox[0]
	a.mailbox[0] = nil
	a.mailbox = a.mailbox[1:]
	return next
}

func (a *Actor) run(ac *call) { a.runOn(a.th, ac) }

// runOn runs one entry of the mailbox on th.
func (a *Actor) runOn(th *exec.Thread, ac *call) {
	defer func() {
		if p := recover(); p != nil {
			a.node.Crashed(ac.res, p)
		}
	}()
	if ac.checkpoint {
		// A checkpoint is a copy of the fields, taken in mailbox order,
		// and the number of calls they reflect.
		fields := make([]exec.Value, len(a.inst.Fields))
		for i, f := range a.inst.Fields {
			fields[i] = exec.CopyValue(f)
		}
		a.node.Publish(ac.res, exec.ListOf([]exec.Value{exec.ListOf(fields), exec.Int(int64(a.order))}), nil)
		return
	}
	args, depErr := ac.args, ac.argsErr
	if args == nil && depErr == nil {
		args, depErr = a.node.ResolveArgs(ac.res.Name(), ac.call.Args)
	}
	if depErr != nil {
		a.node.DependencyFailed()
		ac.res.Complete(exec.None, depErr, a.node.ID())
		return
	}
	// The order in which an actor runs calls from different callers is
	// the nondeterministic step a replay needs: log it.
	// (A served actor's restart replays nothing: it logs nothing.)
	if a.class.Info.ReplaysCalls() {
		a.order++
		a.node.LogOrder(a.id, a.order-1, ac.call.ID)
		ac.res.SetOrder(a.order)
	}
	a.node.MethodStarted()
	started := time.Now()
	val, err := ac.call.Func.RunMethod(th, a.inst, args)
	a.node.MethodDone(ac.call.Func.Name(), ac.call.ID, started, err)
	if err != nil {
		err.MarkNode(a.node.ID())
	}
	a.node.Publish(ac.res, val, err)
}

// Stop ends the actor: queued calls fail, and the node is told so that
// its resources go back.
func (a *Actor) Stop(reason string) {
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
	a.conc.cancel(reason)
	for _, ac := range pending {
		ac.res.Complete(exec.None, &exec.Error{Kind: exec.KindCancelled, Msg: reason}, "")
	}
	a.node.Stopped(a)
}

// Kill stops the actor for good (kill, rayflow actor stop): its queued
// and running calls fail as cancelled with reason, and so does every call
// made on it later.
func (a *Actor) Kill(reason string) {
	a.mu.Lock()
	if a.killed == "" {
		a.killed = reason
	}
	a.mu.Unlock()
	a.Stop(reason)
}

// Killed reports whether the actor was killed.
func (a *Actor) Killed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.killed != ""
}

// Orphan is called by the collector once no handle refers to the actor:
// it stops once its mailbox is empty.
func (a *Actor) Orphan() {
	a.mu.Lock()
	a.orphans = true
	a.wake.Broadcast()
	a.mu.Unlock()
}
