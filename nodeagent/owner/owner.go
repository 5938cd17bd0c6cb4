package owner

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/internal/coalesce"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// Owner is what a networked process owns as the caller of tasks and
// actors that run on other nodes (the core worker of Ray's ownership
// model): the results it awaits, the lineage of the tasks it sent, so it
// can run them again when their node dies (recovery.go); the actors it
// created and restarts, and the handles it was given on actors created
// elsewhere (actors.go, borrowed.go, replay.go); the places its calls
// took in their actors' order (OrderLog); and the answers to its calls
// (HandleDone). It reaches other processes through its Network.
type Owner struct {
	net Network

	awaitMu sync.Mutex
	awaited awaitTable // results this process awaits from other nodes, by task ID (tables.go)

	mu      sync.Mutex
	lineage lineageTable      // tasks sent away, by task/object ID (tables.go)
	actors  map[string]*Actor // handles this process created
	// borrowed are the handles this process was given on actors created
	// elsewhere, one per actor (weak: dropped with the last handle).
	borrowed map[string]weak.Pointer[Actor]

	orders OrderLog

	releases releases  // the copies of fetched results to release (release.go)
	lends    lends     // the objects lent to other processes' tasks (lend.go)
	collect  collector // collections started for the results held elsewhere (collect.go)
	// keepResults: fetched results are not released (KeepResults). Set
	// before the owner is used.
	keepResults bool
	// releaseTask and releaseCall are the releasers of a task's result
	// and a method call's (release.go).
	releaseTask, releaseCall *objstore.ReleaseTo
	// served gathers the calls to served actors (@serve) per node, and
	// servedFrames and servedCalls count what it sent (served.go).
	served                    *coalesce.Sender[servedCall]
	servedFrames, servedCalls atomic.Int64
}

// Network is what the owner needs of the transport side of its process
// (package nodeagent implements it): sending, placing, fetching, which
// nodes died, and the process's lineage. Its RefCodec encodes and
// decodes the futures and actor handles inside values.
type Network interface {
	exec.RefCodec
	// Addr is where this process serves the cluster protocol.
	Addr() string
	// NodeID is the ID of this process's node.
	NodeID() string
	// Driver reports whether the process is a driver (it offers no
	// resources, and restarts do not ask it for lineage).
	Driver() bool
	// KeepsLineage reports whether lineage is kept (not --lineage=off).
	KeepsLineage() bool
	// LineageStore is where committed lineage is read back (the GCS),
	// or nil when no lineage is kept.
	LineageStore() stash.Store
	// AskStashes gathers what the stashes of the live processes hold of
	// some tasks' lineage.
	AskStashes(ids []string) stash.Bundle
	// FitsHere reports whether an actor with demand fits on this
	// process's own node now.
	FitsHere(demand resources.Resources) bool
	// Place asks the global scheduler for a node for name; spread is
	// the actor class's spread key ("" for none, see ActorSpread).
	Place(ctx context.Context, name string, demand resources.Resources, origin, spread string) (nodeID, addr string, err error)
	// ActorSpread is the spread key of an actor class whose instances go
	// to distinct nodes (@hint(spread)), "" for others.
	ActorSpread(class *exec.ActorClass) string
	// FillCall sets the program and the arguments of a message.
	FillCall(msg *wire.Submit, prog *exec.Program, args []exec.Value) *exec.Error
	// ArgValue turns an argument as it travels into a value.
	ArgValue(a wire.Arg) (exec.Value, error)
	// KnowLife makes sure the life of the node at addr is known before
	// work is first sent there.
	KnowLife(addr string)
	// IsDead reports whether the heads declared the node at addr dead.
	IsDead(addr string) bool
	// Call sends a request and waits for its reply; Send sends one-way.
	Call(ctx context.Context, addr string, typ transport.MsgType, payload []byte) (*transport.Message, error)
	Send(addr string, typ transport.MsgType, payload []byte) error
	// Fetch reads an object from the node at addr. An error of kind
	// "lost" says it could not be read from there; any other error is
	// the object's own (its task failed).
	Fetch(id, addr string) (exec.Value, *exec.Error)
	// Spill places a task (again) through the global scheduler.
	Spill(t Task)
	// DeleteLineage removes the committed lineage of tasks (their rows
	// in the GCS), best effort and bounded in time.
	DeleteLineage(ids []string)
}

// Task is a task this process sent to another node, as its lineage
// keeps it (package nodeagent's task).
type Task interface {
	// Call is the task's call.
	Call() *exec.TaskCall
	// Object is where its result goes.
	Object() *objstore.Object
	// SetReplay gives a task about to run again the outcomes its earlier
	// run logged, by sequence number.
	SetReplay(map[uint64]stash.Outcome)
	// Again is a copy of the task to run again, with a new object of the
	// same ID and name.
	Again() Task
}

// SendTimeout bounds one send of a task or result.
const SendTimeout = 30 * time.Second

// MaxSendFailures bounds how often a task or an actor is placed again
// because its node could not be reached; at ResendDelay apart this
// outlasts the time the heads take to declare a dead node dead.
const (
	MaxSendFailures = 30
	ResendDelay     = 500 * time.Millisecond
)

// New returns the owner of a process that reaches others through net.
func New(net Network) *Owner {
	ow := &Owner{net: net, actors: map[string]*Actor{},
		borrowed: map[string]weak.Pointer[Actor]{}}
	ow.releaseTask, ow.releaseCall = objstore.NewReleaseTo(taskResult{ow}), objstore.NewReleaseTo(callResult{ow})
	ow.served = coalesce.New(ow.sendServed)
	return ow
}

// Orders is the log of the places this process's calls took in their
// actors' order, and of its calls on actors it was handed.
func (ow *Owner) Orders() *OrderLog { return &ow.orders }

// awaitedResult is a result this process owns and awaits from another
// node: the object the answer completes and the address of the node the
// task was sent to ("" while nothing runs it: an actor call waiting for
// its actor's restart).
type awaitedResult struct {
	obj    *objstore.Object
	sentTo string
}

// Await records that obj's value will come from the node at addr.
func (ow *Owner) Await(obj *objstore.Object, addr string) {
	ow.awaitMu.Lock()
	ow.awaited.put(obj.ID(), awaitedResult{obj, addr})
	ow.awaitMu.Unlock()
}

// SentGroup records that the results of tasks, a group's calls sent
// whole to the node at addr, will come from there, and keeps their
// lineage (Await and Remember for each): where they are one caller's
// consecutive calls, as one record of awaited results and one of lineage
// for the group, not one per call (tables.go).
func (ow *Owner) SentGroup(tasks []Task, addr string) {
	caller, first, ok := consecutiveCalls(len(tasks), func(i int) string { return tasks[i].Call().ID })
	objs := make([]*objstore.Object, len(tasks))
	for i, t := range tasks {
		objs[i] = t.Object()
	}
	ow.awaitMu.Lock()
	if !ok || !ow.awaited.putGroup(caller, first, objs, addr) {
		for _, o := range objs {
			ow.awaited.put(o.ID(), awaitedResult{o, addr})
		}
	}
	ow.awaitMu.Unlock()
	ow.mu.Lock()
	if !ok || !ow.lineage.putGroup(caller, first, tasks) {
		for _, t := range tasks {
			ow.lineage.put(t)
		}
	}
	ow.mu.Unlock()
}

// AwaitRecords counts the records of awaited results made so far: of
// groups (SentGroup) and of results awaited alone.
func (ow *Owner) AwaitRecords() (groups, alone int) {
	ow.awaitMu.Lock()
	defer ow.awaitMu.Unlock()
	return ow.awaited.groupsMade, ow.awaited.aloneMade
}

// TakeAwaited stops awaiting the result of task id and returns its
// object (nil if it was not awaited).
func (ow *Owner) TakeAwaited(id string) *objstore.Object {
	ow.awaitMu.Lock()
	defer ow.awaitMu.Unlock()
	return ow.takeAwaitedLocked(id)
}

// takeAwaitedLocked is TakeAwaited for callers holding awaitMu.
func (ow *Owner) takeAwaitedLocked(id string) *objstore.Object {
	return ow.awaited.take(id).obj
}

// Awaited is the object of an awaited result (nil if it is not awaited).
func (ow *Owner) Awaited(id string) *objstore.Object {
	ow.awaitMu.Lock()
	defer ow.awaitMu.Unlock()
	return ow.awaited.get(id).obj
}

// CountAwaited counts the awaited results whose IDs pick selects.
func (ow *Owner) CountAwaited(pick func(id string) bool) int {
	ow.awaitMu.Lock()
	defer ow.awaitMu.Unlock()
	n := 0
	ow.awaited.each(func(id string, _ awaitedResult) {
		if pick(id) {
			n++
		}
	})
	return n
}

// Lost fails an awaited object.
func (ow *Owner) Lost(obj *objstore.Object, why string) {
	ow.TakeAwaited(obj.ID())
	obj.Complete(exec.None, &exec.Error{Kind: exec.KindLost, Msg: obj.Name() + " was lost: " + why}, "")
}

// ReleaseJobs drops what this process keeps for the jobs ofJobs picks:
// the results it awaits, which it returns (the caller fails them), and
// the lineage of the tasks it sent.
func (ow *Owner) ReleaseJobs(ofJobs func(id string) bool) []*objstore.Object {
	ow.awaitMu.Lock()
	awaited := ow.awaited.takeIf(ofJobs)
	ow.awaitMu.Unlock()
	ow.mu.Lock()
	ow.lineage.dropIf(ofJobs)
	ow.mu.Unlock()
	ow.forgetLends(ofJobs)
	return awaited
}

// DropActors forgets the actors this process created for the jobs
// ofJobs picks (their hosts stop them).
func (ow *Owner) DropActors(ofJobs func(id string) bool) {
	ow.mu.Lock()
	for id := range ow.actors {
		if ofJobs(id) {
			delete(ow.actors, id)
		}
	}
	ow.mu.Unlock()
}
