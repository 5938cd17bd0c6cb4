package owner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Actors this process creates in other processes, and its calls on them.

// Actor is the handle's view of an actor living in another process (the
// Handle of its exec.ActorHandle). The process that created it also keeps
// what a restart needs: the constructor call and the method calls it
// made, in order.
type Actor struct {
	id string

	mu           sync.Mutex
	addr         string // "" while it is being restarted
	class        *exec.ActorClass
	create       *exec.TaskCall
	demand       resources.Resources
	output       string
	restartsLeft int
	log          []loggedCall // calls made, for replay
	pending      []loggedCall // calls made while restarting
	deadErr      *exec.Error  // set when the actor is gone for good
	// Checkpoints (@checkpoint(every=N)): the encoded fields after the
	// first logBase calls; the log then holds only the calls after it.
	checkpoint []byte
	logBase    int
	sinceCkpt  int
	ckptOrder  uint64 // calls the actor had run (from all callers) when the checkpoint was taken
	gen        int    // incarnation: counts restarts
	// creator is the address of the process that created the actor and
	// restarts it, for a handle this process was given (create is nil).
	creator string
	// relocating is set while a borrowed handle asks the creator where
	// the actor lives after its host died.
	relocating bool
}

// loggedCall is one method call on a remote actor and its result.
type loggedCall struct {
	call *exec.TaskCall
	obj  *objstore.Object
}

// CheckpointState says how far the actor's checkpoints got: the calls
// the last checkpoint covers, the calls logged after it, and the size of
// the checkpoint (for tests).
func (a *Actor) CheckpointState() (logBase, logged, size int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logBase, len(a.log), len(a.checkpoint)
}

// CreatedActors lists the actors this process created.
func (ow *Owner) CreatedActors() []*Actor {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	out := make([]*Actor, 0, len(ow.actors))
	for _, a := range ow.actors {
		out = append(out, a)
	}
	return out
}

// CreateActor creates an actor elsewhere in the cluster when it does
// not fit on this process's node. It returns a nil handle and nil error
// when the actor should be created here. output is where the actor's
// prints go.
func (ow *Owner) CreateActor(call *exec.TaskCall, demand resources.Resources, output string) (*exec.ActorHandle, error) {
	return ow.placeActorTry(call, demand, output, 0)
}

// retryActorCreate places an actor again after its chosen node could not
// be reached, for as long as a dead node takes to be declared dead.
func (ow *Owner) retryActorCreate(call *exec.TaskCall, demand resources.Resources, output string, attempt int, addr string, err error) (*exec.ActorHandle, error) {
	if attempt >= MaxSendFailures {
		return nil, exec.Errorf(exec.KindLost, "could not create actor %s on the node at %s: %v", call.Class.Name(), addr, transport.Plain(err))
	}
	time.Sleep(ResendDelay)
	return ow.placeActorTry(call, demand, output, attempt+1)
}

func (ow *Owner) placeActorTry(call *exec.TaskCall, demand resources.Resources, output string, attempt int) (*exec.ActorHandle, error) {
	spread := ow.net.ActorSpread(call.Class)
	if spread == "" && !ow.net.Driver() && ow.net.FitsHere(demand) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	defer cancel()
	local := ow.net.NodeID()
	origin := local
	if spread != "" {
		origin = "" // it leaves by its hint, not for want of room here
	}
	nodeID, addr, err := ow.net.Place(ctx, "actor "+call.Class.Name(), demand, origin, spread)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "%v", transport.Plain(err))
	}
	if nodeID == local {
		return nil, nil
	}
	msg := &wire.Submit{Kind: wire.SubmitActor, ID: actorhost.Key(call.ID, 0), Owner: ow.net.Addr(), Function: call.Class.Ref(),
		Resources: call.Resources(), Output: output}
	if err := FailedDependency("actor "+call.Class.Name(), call.Args); err != nil {
		return nil, err
	}
	if err := ow.net.FillCall(msg, call.Class.Program(), call.Args); err != nil {
		return nil, err
	}
	ow.net.KnowLife(addr)
	if _, err := ow.net.Call(ctx, addr, transport.SubmitTask, wire.One(msg)); err != nil {
		if transport.Code(err) == transport.CodeCannotRun {
			// The node refused for good (it lacks a Go function the
			// program uses): trying again cannot help.
			return nil, exec.Errorf(exec.KindName, "could not create actor %s on the node at %s: %v", call.Class.Name(), addr, transport.Plain(err))
		}
		// The node probably died and the heads do not know yet: place the
		// actor again a little later.
		return ow.retryActorCreate(call, demand, output, attempt, addr, err)
	}
	ra := &Actor{id: call.ID, addr: addr, class: call.Class, create: call, demand: demand,
		output: msg.Output, restartsLeft: call.Class.Info.Restarts}
	ow.mu.Lock()
	ow.actors[call.ID] = ra
	ow.mu.Unlock()
	return &exec.ActorHandle{ID: call.ID, Class: call.Class, Handle: ra}, nil
}

// CallRemote sends a method call to an actor in another process. Calls
// go one-way on one connection, which keeps them in call order.
func (ow *Owner) CallRemote(a *Actor, call *exec.TaskCall, o *objstore.Object) {
	msg := &wire.Submit{Kind: wire.SubmitMethod, ID: call.ID, ActorID: a.id, Owner: ow.net.Addr(), Function: call.Func.ShortName()}
	if err := FailedDependency(o.Name(), call.Args); err != nil {
		o.Complete(exec.None, err, "")
		return
	}
	if err := ow.net.FillCall(msg, call.Func.Program(), call.Args); err != nil {
		o.Complete(exec.None, err, "")
		return
	}
	replays := a.class.Info.ReplaysCalls() // a served actor restarts fresh: its calls are kept until answered only
	if a.create == nil && replays && ow.net.KeepsLineage() && !ow.net.Driver() {
		// A caller other than the creator keeps the call's specification
		// (the creator keeps its calls in its log): if the host dies
		// before its stash wrote the call to the GCS, a restart still
		// finds it here. Found by the chaos test: a call in the logged
		// order whose specification was nowhere, so the replay skipped it.
		// (A driver is not asked: restarts ask the cluster's nodes.)
		ow.orders.KeepCall(call)
	}
	a.mu.Lock()
	addr := a.addr
	msg.ActorID = actorhost.Key(a.id, a.gen) // the incarnation the call is for
	if a.deadErr != nil {
		err := a.deadErr
		a.mu.Unlock()
		o.Complete(exec.None, err, "")
		return
	}
	if addr == "" { // being restarted: sent after the replay
		a.pending = append(a.pending, loggedCall{call: call, obj: o})
		a.mu.Unlock()
		return
	}
	ckpt := false
	if a.create != nil && replays {
		a.log = append(a.log, loggedCall{call: call, obj: o})
		if every := a.class.Info.Checkpoint; every > 0 {
			a.sinceCkpt++
			ckpt = a.sinceCkpt >= every
			if ckpt {
				a.sinceCkpt = 0
			}
		}
	} else {
		// A handed-over actor, or a served one: keep the calls not yet
		// answered, to send them again if the actor is recreated.
		a.log = append(dropAnswered(a.log), loggedCall{call: call, obj: o})
	}
	covered := a.logBase + len(a.log)
	a.mu.Unlock()
	ow.Await(o, addr)
	if !replays {
		// A served actor's call: the concurrent requests' calls to one
		// node travel in one frame (served.go).
		ow.served.Add(addr, servedCall{msg: msg.Encode(), actor: a, obj: o})
		return
	}
	if err := ow.net.Send(addr, transport.SubmitTask, wire.One(msg)); err != nil {
		ow.unreachableActor(a, o, addr, err)
		return
	}
	if ckpt {
		ow.requestCheckpoint(a, addr, msg.ActorID, call.ID+".ckpt", covered)
	}
}

// methodMsg is the message that sends call to the incarnation key of its
// actor, the answer going to owner ("" for nobody).
func (ow *Owner) methodMsg(call *exec.TaskCall, key, owner string) (*wire.Submit, *exec.Error) {
	msg := &wire.Submit{Kind: wire.SubmitMethod, ID: call.ID, ActorID: key, Owner: owner, Function: call.Func.ShortName()}
	return msg, ow.net.FillCall(msg, call.Func.Program(), call.Args)
}

// sendMethod sends call to the incarnation key of its actor at addr; obj
// awaits the answer. An argument that cannot travel fails obj; the error
// returned is the send's.
func (ow *Owner) sendMethod(addr, key string, call *exec.TaskCall, obj *objstore.Object) error {
	if err := FailedDependency(obj.Name(), call.Args); err != nil {
		obj.Complete(exec.None, err, "")
		return nil
	}
	msg, err := ow.methodMsg(call, key, ow.net.Addr())
	if err != nil {
		obj.Complete(exec.None, err, "")
		return nil
	}
	ow.Await(obj, addr)
	return ow.net.Send(addr, transport.SubmitTask, wire.One(msg))
}

// requestCheckpoint asks the actor's host for a copy of its fields after
// the first covered calls. When it arrives it replaces the log up to
// there, so a restart replays only the calls after it.
func (ow *Owner) requestCheckpoint(a *Actor, addr, key, id string, covered int) {
	o := objstore.NewObject(id, "checkpoint of actor "+a.class.Name())
	ow.Await(o, addr)
	o.OnReady(func() { go ow.keepCheckpoint(a, o, covered) })
	msg := &wire.Submit{Kind: wire.SubmitCheckpoint, ID: id, ActorID: key, Owner: ow.net.Addr()}
	if err := ow.net.Send(addr, transport.SubmitTask, wire.One(msg)); err != nil {
		ow.failOwned(o, &exec.Error{Kind: exec.KindLost, Msg: "checkpoint not sent"})
	}
}

// keepCheckpoint stores a checkpoint that arrived and trims the log: the
// creator's calls sent before the checkpoint are in it.
func (ow *Owner) keepCheckpoint(a *Actor, o *objstore.Object, covered int) {
	v, err := o.Result()
	if err != nil {
		return // a failed checkpoint only means a longer replay
	}
	data, eerr := exec.EncodeWith(nil, v, ow.net)
	if eerr != nil || v.Kind() != exec.ListKind || len(v.AsList().Elems) != 2 {
		return
	}
	order := v.AsList().Elems[1].AsInt()
	a.mu.Lock()
	defer a.mu.Unlock()
	// A checkpoint covering more of the creator's calls, or as many but
	// more calls of others (CheckpointNow), replaces the one kept.
	if covered > a.logBase || covered == a.logBase && uint64(order) > a.ckptOrder {
		a.log = append([]loggedCall(nil), a.log[covered-a.logBase:]...)
		a.logBase = covered
		a.checkpoint = data
		a.ckptOrder = uint64(order)
	}
}

// dropAnswered removes the answered calls from a log that keeps only
// the calls in flight (a handed-over actor's, a served one's), keeping
// the order of the others: it holds as many calls as are in flight, even
// behind a call that is never answered.
func dropAnswered(log []loggedCall) []loggedCall {
	kept := log[:0]
	for _, lc := range log {
		if !lc.obj.IsReady() {
			kept = append(kept, lc)
		}
	}
	clear(log[len(kept):]) // no answered call stays reachable from the array
	return kept
}

// unreachableActor handles a call that could not be sent to its actor.
// An actor this process can restart keeps the call: when the heads
// declare the node dead, the restart replays it. Any other actor's call
// fails, naming the node and the reason.
func (ow *Owner) unreachableActor(a *Actor, o *objstore.Object, addr string, err error) {
	a.mu.Lock()
	restartable := a.create != nil && a.restartsLeft > 0 && ow.net.KeepsLineage()
	borrowed := a.create == nil && a.creator != "" && ow.net.KeepsLineage()
	gen := a.gen
	a.mu.Unlock()
	if restartable {
		time.AfterFunc(whereWait, func() { ow.resendIfStillThere(a, o, addr, gen, 1) })
		return
	}
	if borrowed {
		// Its creator restarts it, if it can: ask the creator where the
		// actor lives now, and send the calls there.
		go ow.relocate(a, addr)
		return
	}
	ow.Lost(o, fmt.Sprintf("its actor on the node at %s cannot be reached (the node died?) and has no restarts left: %v", addr, transport.Plain(err)))
}

// resendIfStillThere sends again a call its creator could not send, if
// by now the heads have not declared the actor's node dead (then the
// restart replays it): the failure was passing (a broken connection, a
// redial backoff), and without this the call waited for ever.
func (ow *Owner) resendIfStillThere(a *Actor, o *objstore.Object, addr string, gen, attempt int) {
	a.mu.Lock()
	still := a.addr == addr && a.gen == gen && a.deadErr == nil
	var call *exec.TaskCall
	for _, lc := range a.log {
		if lc.obj == o {
			call = lc.call
		}
	}
	a.mu.Unlock()
	if !still || call == nil || o.IsReady() || ow.net.IsDead(addr) {
		return
	}
	if err := ow.sendMethod(addr, actorhost.Key(a.id, gen), call, o); err != nil && attempt < MaxSendFailures {
		time.AfterFunc(ResendDelay, func() { ow.resendIfStillThere(a, o, addr, gen, attempt+1) })
	}
}

// StopCreatedActors tells the hosts of the actors this process created
// that they can go: the process is leaving, and no handle it gave out
// outlives the job.
func (ow *Owner) StopCreatedActors() {
	ow.mu.Lock()
	actors := make([]*Actor, 0, len(ow.actors))
	for _, a := range ow.actors {
		actors = append(actors, a)
	}
	ow.actors = map[string]*Actor{}
	ow.mu.Unlock()
	for _, a := range actors {
		a.mu.Lock()
		addr, key := a.addr, actorhost.Key(a.id, a.gen)
		a.mu.Unlock()
		if addr != "" {
			ow.net.Send(addr, transport.SubmitTask, wire.One(&wire.Submit{Kind: wire.SubmitStop, ActorID: key}))
		}
	}
}

// LoggedCalls counts the method calls this process keeps in the logs of
// the actors it created: those a restart replays, and the calls not yet
// answered.
func (ow *Owner) LoggedCalls() int {
	n := 0
	for _, a := range ow.CreatedActors() {
		a.mu.Lock()
		n += len(a.log)
		a.mu.Unlock()
	}
	return n
}
