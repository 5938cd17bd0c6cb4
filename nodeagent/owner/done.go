package owner

import (
	"strconv"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/actorhost"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// HandleDone completes an awaited object with a remote result.
func (ow *Owner) HandleDone(payload []byte) error {
	var m wire.Done
	if err := wire.DecodeDoneInto(payload, &m); err != nil {
		return err
	}
	ow.complete(&m, ow.takeDone(&m))
	return nil
}

// HandleDoneList completes the awaited objects of the results of a
// TaskDoneList. A message without an ID is the result of the next call
// of the previous message's call (wire.DecodeDoneInto): it is found in
// its group's record by its caller and number, and takes the ID its
// object holds, so a group's results cost no ID string each.
func (ow *Owner) HandleDoneList(payload []byte) error {
	var caller string
	var n uint64
	var numbered bool // the previous message's ID is of the form <caller>.<n>
	return wire.EachSubmit(payload, func(msg []byte) error {
		var m wire.Done
		if err := wire.DecodeDoneInto(msg, &m); err != nil {
			return err
		}
		var obj *objstore.Object
		switch {
		case m.ID != "":
			caller, n, numbered = wire.CallNumber(m.ID)
			obj = ow.takeDone(&m)
		case !numbered:
			return wire.ErrMalformed
		default:
			n++
			obj = ow.takeNextDone(&m, caller, n)
		}
		ow.complete(&m, obj)
		return nil
	})
}

// takeDone stops awaiting the result m holds and returns its object (nil
// when it is not awaited: cancelled, or already failed).
func (ow *Owner) takeDone(m *wire.Done) *objstore.Object {
	if m.Actor != "" && m.Seq > 0 {
		ow.orders.Note(actorhost.KeyID(m.Actor), m.Seq-1, m.ID)
	}
	ow.awaitMu.Lock()
	obj := ow.takeAwaitedLocked(m.ID)
	ow.awaitMu.Unlock()
	return obj
}

// takeNextDone is takeDone for a message without its ID, the result of
// call n of caller; it sets m.ID.
func (ow *Owner) takeNextDone(m *wire.Done, caller string, n uint64) *objstore.Object {
	if m.Actor == "" {
		ow.awaitMu.Lock()
		obj := ow.awaited.takeCall(caller, n)
		ow.awaitMu.Unlock()
		if obj != nil {
			m.ID = obj.ID()
			return obj
		}
	}
	m.ID = caller + "." + strconv.FormatUint(n, 10)
	return ow.takeDone(m)
}

// complete completes obj, the object of the result m holds (nothing
// when obj is nil).
func (ow *Owner) complete(m *wire.Done, obj *objstore.Object) {
	if obj == nil {
		return // cancelled or already failed
	}
	inline := !m.Resubmit && m.Err == nil && m.Location == "" // the value is here: its lineage is not needed
	switch {
	case inline && m.RunNs > 0:
		observeTask(ow.forget(m.ID), time.Duration(m.RunNs)) // one look-up for both
	case inline:
		ow.forget(m.ID)
	case m.RunNs > 0:
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
	default: // inline: its lineage is forgotten above
		v, derr := exec.DecodeWith(m.Inline, ow.net)
		if derr != nil {
			obj.Complete(exec.None, exec.Errorf(exec.KindInternal, "internal error: bad result of %s: %v", obj.Name(), derr), "")
			return
		}
		obj.Complete(v, nil, "")
	}
}

// observe gives the caller's adaptive planner how long a call that ran
// elsewhere took.
func (ow *Owner) observe(id string, ran time.Duration) {
	_, t := ow.lineageOf(id)
	observeTask(t, ran)
}

// observeTask gives t's caller's adaptive planner how long t ran
// elsewhere (nothing when t is nil).
func observeTask(t Task, ran time.Duration) {
	if t == nil {
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
