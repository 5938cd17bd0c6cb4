package nodeagent

import (
	"fmt"
	"strings"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// newActor creates an actor elsewhere in the cluster when it does not
// fit on this process's node. It returns a nil handle and nil error when
// the actor should be created here.
func (nw *network) newActor(th *exec.Thread, call *exec.TaskCall, demand resources.Resources) (*exec.ActorHandle, error) {
	return nw.ow.CreateActor(call, demand, nw.outputAddr(outputOf(th)))
}

// hostActor creates an actor here for another process.
func (nw *network) hostActor(prog *exec.Program, m *wire.Submit, args []exec.Value) error {
	class, ok := prog.ClassByName(m.Function)
	if !ok {
		return fmt.Errorf("program has no actor %s", calleeName(m.Function))
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
	bad := fmt.Errorf("actor %s: bad checkpoint", calleeName(m.Function))
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
	var name string
	if a != nil {
		name = a.CallName(m.Function) // as the caller names it
	} else {
		name = "method " + m.Function
	}
	o := objstore.NewObject(m.ID, name)
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
		gone = !a.Killed() // a killed actor is not to be found elsewhere
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

// calleeName is the name of the task or actor class a message's Function
// names: without the options of one made by options(...) (exec's Ref).
func calleeName(ref string) string {
	name, _, _ := strings.Cut(ref, "?")
	return name
}
