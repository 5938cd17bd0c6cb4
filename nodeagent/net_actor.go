package nodeagent

import (
	"context"
	"fmt"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// newActor creates an actor elsewhere in the cluster when it does not
// fit on this process's node. It returns a nil handle and nil error when
// the actor should be created here.
func (nw *network) newActor(th *exec.Thread, call *exec.TaskCall, demand resources.Resources) (*exec.ActorHandle, error) {
	return nw.ow.placeActorTry(th, call, demand, 0)
}

// retryActorCreate places an actor again after its chosen node could not
// be reached, for as long as a dead node takes to be declared dead.
func (ow *ownership) retryActorCreate(th *exec.Thread, call *exec.TaskCall, demand resources.Resources, attempt int, addr string, err error) (*exec.ActorHandle, error) {
	if attempt >= maxSendFailures {
		return nil, exec.Errorf(exec.KindLost, "could not create actor %s on the node at %s: %v", call.Class.Name(), addr, transport.Plain(err))
	}
	time.Sleep(resendDelay)
	return ow.placeActorTry(th, call, demand, attempt+1)
}

func (ow *ownership) placeActorTry(th *exec.Thread, call *exec.TaskCall, demand resources.Resources, attempt int) (*exec.ActorHandle, error) {
	local := ow.nw.c.Head()
	if !ow.nw.cfg.Driver && demand.Fits(local.state().Available) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	nodeID, addr, err := ow.nw.place(ctx, "actor "+call.Class.Name(), demand, local.ID)
	if err != nil {
		return nil, exec.Errorf(exec.KindResource, "%v", transport.Plain(err))
	}
	if nodeID == local.ID {
		return nil, nil
	}
	msg := &wire.Submit{Kind: wire.SubmitActor, ID: actorhost.Key(call.ID, 0), Owner: ow.nw.addr, Function: call.Class.Name(),
		Resources: call.Resources(), Output: ow.nw.outputAddr(outputOf(th))}
	if err := ow.nw.fillCall(msg, call.Class.Program(), call.Args); err != nil {
		return nil, err
	}
	ow.nw.knowLife(addr)
	if _, err := ow.nw.pool.Call(ctx, addr, transport.SubmitTask, wire.One(msg)); err != nil {
		if transport.Code(err) == transport.CodeCannotRun {
			// The node refused for good (it lacks a Go function the
			// program uses): trying again cannot help.
			return nil, exec.Errorf(exec.KindName, "could not create actor %s on the node at %s: %v", call.Class.Name(), addr, transport.Plain(err))
		}
		// The node probably died and the heads do not know yet: place the
		// actor again a little later.
		return ow.retryActorCreate(th, call, demand, attempt, addr, err)
	}
	ra := &remoteActor{id: call.ID, addr: addr, class: call.Class, create: call, demand: demand,
		output: msg.Output, restartsLeft: call.Class.Info.Restarts}
	ow.rec.mu.Lock()
	ow.rec.actors[call.ID] = ra
	ow.rec.mu.Unlock()
	return &exec.ActorHandle{ID: call.ID, Class: call.Class, Handle: ra}, nil
}

// callRemote sends a method call to an actor in another process. Calls
// go one-way on one connection, which keeps them in call order.
func (ow *ownership) callRemote(a *remoteActor, call *exec.TaskCall, o *objstore.Object) {
	msg := &wire.Submit{Kind: wire.SubmitMethod, ID: call.ID, ActorID: a.id, Owner: ow.nw.addr, Function: call.Func.ShortName()}
	if err := ow.nw.fillCall(msg, call.Func.Program(), call.Args); err != nil {
		o.Complete(exec.None, err, "")
		return
	}
	if a.create == nil && ow.nw.c.keepsLineage() && !ow.nw.cfg.Driver {
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
	if a.create != nil {
		a.log = append(a.log, loggedCall{call: call, obj: o})
		if every := a.class.Info.Checkpoint; every > 0 {
			a.sinceCkpt++
			ckpt = a.sinceCkpt >= every
			if ckpt {
				a.sinceCkpt = 0
			}
		}
	} else {
		// A handed-over actor: keep the calls not yet answered, to send
		// them again if the actor is recreated elsewhere.
		a.log = append(dropAnswered(a.log), loggedCall{call: call, obj: o})
	}
	covered := a.logBase + len(a.log)
	a.mu.Unlock()
	ow.nw.await(o, addr)
	if err := ow.nw.pool.Send(addr, transport.SubmitTask, wire.One(msg)); err != nil {
		ow.unreachableActor(a, o, addr, err)
		return
	}
	if ckpt {
		ow.requestCheckpoint(a, addr, msg.ActorID, call.ID+".ckpt", covered)
	}
}

// methodMsg is the message that sends call to the incarnation key of its
// actor, the answer going to owner ("" for nobody).
func (ow *ownership) methodMsg(call *exec.TaskCall, key, owner string) (*wire.Submit, *exec.Error) {
	msg := &wire.Submit{Kind: wire.SubmitMethod, ID: call.ID, ActorID: key, Owner: owner, Function: call.Func.ShortName()}
	return msg, ow.nw.fillCall(msg, call.Func.Program(), call.Args)
}

// sendMethod sends call to the incarnation key of its actor at addr; obj
// awaits the answer. An argument that cannot travel fails obj; the error
// returned is the send's.
func (ow *ownership) sendMethod(addr, key string, call *exec.TaskCall, obj *objstore.Object) error {
	msg, err := ow.methodMsg(call, key, ow.nw.addr)
	if err != nil {
		obj.Complete(exec.None, err, "")
		return nil
	}
	ow.nw.await(obj, addr)
	return ow.nw.pool.Send(addr, transport.SubmitTask, wire.One(msg))
}

// requestCheckpoint asks the actor's host for a copy of its fields after
// the first covered calls. When it arrives it replaces the log up to
// there, so a restart replays only the calls after it.
func (ow *ownership) requestCheckpoint(a *remoteActor, addr, key, id string, covered int) {
	o := objstore.NewObject(id, "checkpoint of actor "+a.class.Name())
	ow.nw.await(o, addr)
	o.OnReady(func() { go ow.keepCheckpoint(a, o, covered) })
	msg := &wire.Submit{Kind: wire.SubmitCheckpoint, ID: id, ActorID: key, Owner: ow.nw.addr}
	if err := ow.nw.pool.Send(addr, transport.SubmitTask, wire.One(msg)); err != nil {
		ow.failOwned(o, &exec.Error{Kind: exec.KindLost, Msg: "checkpoint not sent"})
	}
}

// keepCheckpoint stores a checkpoint that arrived and trims the log: the
// creator's calls sent before the checkpoint are in it.
func (ow *ownership) keepCheckpoint(a *remoteActor, o *objstore.Object, covered int) {
	v, err := o.Result()
	if err != nil {
		return // a failed checkpoint only means a longer replay
	}
	data, eerr := exec.EncodeWith(nil, v, ow.nw)
	if eerr != nil || v.Kind() != exec.ListKind || len(v.AsList().Elems) != 2 {
		return
	}
	order := v.AsList().Elems[1].AsInt()
	a.mu.Lock()
	defer a.mu.Unlock()
	if covered > a.logBase {
		a.log = append([]loggedCall(nil), a.log[covered-a.logBase:]...)
		a.logBase = covered
		a.checkpoint = data
		a.ckptOrder = uint64(order)
	}
}

// dropAnswered removes the answered calls at the front of a handed-over
// actor's log, so that it holds about as many calls as are in flight.
func dropAnswered(log []loggedCall) []loggedCall {
	i := 0
	for i < len(log) && log[i].obj.IsReady() {
		i++
	}
	if i == 0 {
		return log
	}
	return append(log[:0], log[i:]...)
}

// unreachableActor handles a call that could not be sent to its actor.
// An actor this process can restart keeps the call: when the heads
// declare the node dead, the restart replays it. Any other actor's call
// fails, naming the node and the reason.
func (ow *ownership) unreachableActor(a *remoteActor, o *objstore.Object, addr string, err error) {
	a.mu.Lock()
	restartable := a.create != nil && a.restartsLeft > 0 && ow.nw.c.keepsLineage()
	borrowed := a.create == nil && a.creator != "" && ow.nw.c.keepsLineage()
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
	ow.nw.lost(o, fmt.Sprintf("its actor on the node at %s cannot be reached (the node died?) and has no restarts left: %v", addr, transport.Plain(err)))
}

// resendIfStillThere sends again a call its creator could not send, if
// by now the heads have not declared the actor's node dead (then the
// restart replays it): the failure was passing (a broken connection, a
// redial backoff), and without this the call waited for ever.
func (ow *ownership) resendIfStillThere(a *remoteActor, o *objstore.Object, addr string, gen, attempt int) {
	a.mu.Lock()
	still := a.addr == addr && a.gen == gen && a.deadErr == nil
	var call *exec.TaskCall
	for _, lc := range a.log {
		if lc.obj == o {
			call = lc.call
		}
	}
	a.mu.Unlock()
	if !still || call == nil || o.IsReady() || ow.nw.isDead(addr) {
		return
	}
	if err := ow.sendMethod(addr, actorhost.Key(a.id, gen), call, o); err != nil && attempt < maxSendFailures {
		time.AfterFunc(resendDelay, func() { ow.resendIfStillThere(a, o, addr, gen, attempt+1) })
	}
}

// hostActor creates an actor here for another process.
func (nw *network) hostActor(prog *exec.Program, m *wire.Submit, args []exec.Value) error {
	class, ok := prog.ClassByName(m.Function)
	if !ok {
		return fmt.Errorf("program has no actor %s", m.Function)
	}
	id := actorhost.KeyID(m.ID)
	call := &exec.TaskCall{ID: id, Class: class, Args: args}
	demand, err := resources.FromMap(call.Resources())
	if err != nil {
		return err
	}
	from, err := nw.decodeCheckpoint(m)
	if err != nil {
		return err
	}
	a := nw.c.Head().spawnActor(call, demand, m.Output, from, actorhost.KeyGen(m.ID), m.Owner)
	// An earlier incarnation of the same actor still here (its node was
	// restarted on this port, or declared dead while it was alive) is
	// superseded: it stops and gives its resources back.
	if old := nw.hosted.Host(a); old != nil {
		old.Stop("actor " + old.Class().Name() + " stopped: a newer incarnation replaced it")
	}
	return nil
}

// decodeCheckpoint reads the state a recreated actor starts from: the
// fields and call count of a checkpoint, or nil to run the constructor.
func (nw *network) decodeCheckpoint(m *wire.Submit) (*actorhost.State, error) {
	if len(m.State) == 0 {
		return nil, nil
	}
	v, err := exec.DecodeWith(m.State, nw)
	bad := fmt.Errorf("actor %s: bad checkpoint", m.Function)
	if err != nil || v.Kind() != exec.ListKind || len(v.AsList().Elems) != 2 {
		return nil, bad
	}
	fields, order := v.AsList().Elems[0], v.AsList().Elems[1]
	if fields.Kind() != exec.ListKind || order.Kind() != exec.IntKind || order.AsInt() < 0 {
		return nil, bad
	}
	return &actorhost.State{Fields: fields.AsList().Elems, Order: uint64(order.AsInt())}, nil
}

// callHosted queues a method call from another process on an actor
// hosted here; its result goes back to the caller.
func (nw *network) callHosted(m *wire.Submit, args []exec.Value) error {
	a, newer := nw.hosted.Lookup(m.ActorID)
	if newer && nw.hosted.HostedFor(m.ActorID, m.Owner) {
		// A call sent to an incarnation that a restart has replaced here
		// (it was on its way while the actor was recreated on the same
		// address). It must not run on the new incarnation out of order:
		// the restart's replay sends it again, in its place.
		return nil
	}
	owner := m.Owner
	o := objstore.NewObject(m.ID, "method "+m.Function)
	gone := false // the actor is not here: its caller must find it again
	if owner != "" {
		// The answer carries the call's place in the actor's order, so
		// that the caller holds it if this node dies before its stash
		// wrote it to the GCS.
		o.OnReady(func() {
			done := &wire.Done{ID: o.ID(), Gone: gone, Actor: m.ActorID}
			if nw.c.keepsLineage() {
				done.Seq = o.Order()
			}
			nw.reportDone(o, owner, done)
		})
	}
	if a == nil {
		why := fmt.Sprintf("no actor %s lives on this node", m.ActorID)
		if newer {
			why = fmt.Sprintf("actor %s was replaced by a newer incarnation here", actorhost.KeyID(m.ActorID))
		}
		gone = true
		o.Complete(exec.None, &exec.Error{Kind: exec.KindLost, Msg: why}, "")
		return nil
	}
	method, ok := a.Class().Method(m.Function)
	if !ok {
		o.Complete(exec.None, exec.Errorf(exec.KindName, "actor %s has no method '%s'", a.Class().Name(), m.Function), "")
		return nil
	}
	if !a.Enqueue(&exec.TaskCall{ID: m.ID, Func: method, Args: args}, o, true) {
		gone = true
		o.Complete(exec.None, a.StoppedError(), "")
	}
	return nil
}

// checkpointHosted queues a checkpoint of an actor hosted here; the copy
// of its fields goes back to the actor's creator like a method result.
func (nw *network) checkpointHosted(m *wire.Submit) error {
	a, _ := nw.hosted.Lookup(m.ActorID)
	o := objstore.NewObject(m.ID, "checkpoint of actor "+m.ActorID)
	owner := m.Owner
	o.OnReady(func() { nw.report(o, owner) })
	if a == nil {
		o.Complete(exec.None, &exec.Error{Kind: exec.KindLost, Msg: "no such actor here"}, "")
		return nil
	}
	if !a.EnqueueCheckpoint(m.ID, o) {
		o.Complete(exec.None, &exec.Error{Kind: exec.KindLost, Msg: "actor stopped"}, "")
	}
	return nil
}

// stopHosted stops an actor hosted here whose creator has finished.
func (nw *network) stopHosted(id string) {
	if a := nw.hosted.Remove(id); a != nil {
		a.Stop("actor " + a.Class().Name() + " stopped: the job that created it has finished")
	}
}

// stopCreatedActors tells the hosts of the actors this process created
// that they can go: the process is leaving, and no handle it gave out
// outlives the job.
func (ow *ownership) stopCreatedActors() {
	ow.rec.mu.Lock()
	actors := make([]*remoteActor, 0, len(ow.rec.actors))
	for _, a := range ow.rec.actors {
		actors = append(actors, a)
	}
	ow.rec.actors = map[string]*remoteActor{}
	ow.rec.mu.Unlock()
	for _, a := range actors {
		a.mu.Lock()
		addr, key := a.addr, actorhost.Key(a.id, a.gen)
		a.mu.Unlock()
		if addr != "" {
			ow.nw.pool.Send(addr, transport.SubmitTask, wire.One(&wire.Submit{Kind: wire.SubmitStop, ActorID: key}))
		}
	}
}
