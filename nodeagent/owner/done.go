package owner

import (
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// HandleDone completes an awaited object with a remote result.
func (ow *Owner) HandleDone(payload []byte) error {
	m, err := wire.DecodeDone(payload)
	if err != nil {
		return err
	}
	if m.Actor != "" && m.Seq > 0 {
		ow.orders.Note(actorhost.KeyID(m.Actor), m.Seq-1, m.ID)
	}
	ow.awaitMu.Lock()
	obj := ow.takeAwaitedLocked(m.ID)
	ow.awaitMu.Unlock()
	if obj == nil {
		return nil // cancelled or already failed
	}
	if m.RunNs > 0 {
		ow.observe(m.ID, time.Duration(m.RunNs))
	}
	switch {
	case m.Resubmit:
		go ow.resubmit(obj) // spilling may wait: not on the connection's goroutine
	case m.Gone && m.Err != nil:
		ow.actorGone(m.ID, m.Actor, obj, m.Err)
	case m.Err != nil && m.Err.Kind == exec.KindLost && ow.hasLineage(m.ID):
		// An argument was lost on the way; this process owns the task's
		// lineage, so it rebuilds the arguments and runs the task again.
		go ow.retryWithArguments(obj, m.Err)
	case m.Err != nil:
		obj.Complete(exec.None, m.Err, m.Err.Node)
	case m.Location != "":
		obj.SetRemote(m.Location, m.Size, ow)
		// The holder drops it once it is fetched here (release.go); a
		// method call's lineage stays, for its actor's restart.
		switch {
		case ow.keepResults:
		case m.Actor == "":
			obj.SetReleaser(ow.releaseTask)
			ow.collect.noteRemote(m.Size) // a dropped future is found sooner (collect.go)
		default:
			obj.SetReleaser(ow.releaseCall)
		}
		obj.Complete(exec.None, nil, m.Location)
	default:
		ow.forget(m.ID) // the value is here now; its lineage is not needed
		v, derr := exec.DecodeWith(m.Inline, ow.net)
		if derr != nil {
			obj.Complete(exec.None, exec.Errorf(exec.KindInternal, "internal error: bad result of %s: %v", obj.Name(), derr), "")
			return nil
		}
		obj.Complete(v, nil, "")
	}
	return nil
}

// observe gives the caller's adaptive planner how long a call that ran
// elsewhere took.
func (ow *Owner) observe(id string, ran time.Duration) {
	entry, t := ow.lineageOf(id)
	if entry == nil {
		return
	}
	if call := t.Call(); call.Func != nil {
		call.Func.Program().Adapt.Observe(call.Site, ran)
	}
}

// resubmit places again a task that its node gave back unrun.
func (ow *Owner) resubmit(obj *objstore.Object) {
	entry, t := ow.lineageOf(obj.ID())
	if entry == nil || t.Object() != obj {
		obj.Complete(exec.None, &exec.Error{Kind: exec.KindLost, Msg: obj.Name() + " was given back by its node, and its specification is not kept here"}, "")
		return
	}
	ow.net.Spill(t)
}

// FetchObject brings here the value of o, held by the process at addr
// (objstore.Fetcher): fetched from there, or rebuilt from its lineage (or
// by its owner) when that process lost it. An object that holds an
// error (its task failed) is not lost: its error is returned as it is.
func (ow *Owner) FetchObject(o *objstore.Object, addr string) (exec.Value, *exec.Error) {
	v, err := ow.net.Fetch(o.ID(), addr)
	if err != nil && err.Kind == exec.KindLost {
		v, err = ow.rebuild(o, addr, err)
	}
	return v, err
}
