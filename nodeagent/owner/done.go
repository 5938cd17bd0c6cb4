package owner

import (
	"strconv"
	"sync"
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
//
// The list is taken in passes, each lock taken once for the whole list,
// not once a result: its messages decoded, then their objects taken from
// the awaited ones (awaitMu), then the lineage of those whose value came
// inline forgotten (mu), then the objects completed, in the list's
// order. As for one result, every result is taken and its lineage
// forgotten before its object completes; a result of the list is taken
// before an earlier one's waiters run (they see it neither awaited nor
// ready, as a result being completed). A malformed message ends the list:
// the results before it are completed, and the error returned.
func (ow *Owner) HandleDoneList(payload []byte) error {
	list := takenLists.Get().(*[]takenDone)
	taken, err := decodeDoneList(payload, (*list)[:0])
	ow.noteOrders(taken)
	ow.awaitMu.Lock()
	for i := range taken {
		ow.takeListedLocked(&taken[i])
	}
	ow.awaitMu.Unlock()
	ow.mu.Lock()
	for i := range taken {
		if d := &taken[i]; d.obj != nil && inlineResult(&d.m) {
			d.forgotten = ow.lineage.drop(d.m.ID)
		}
	}
	ow.mu.Unlock()
	for i := range taken {
		if d := &taken[i]; d.obj != nil {
			ow.finish(&d.m, d.obj, d.forgotten)
		}
	}
	clear(taken) // the pool keeps no object, task nor payload
	*list = taken
	takenLists.Put(list)
	return err
}

// takenDone is one result of a TaskDoneList while HandleDoneList takes
// it: the message, and for one without its ID the caller and number of
// its call, its object once taken and the task whose lineage was
// forgotten.
type takenDone struct {
	m         wire.Done
	caller    string
	n         uint64
	obj       *objstore.Object
	forgotten Task
}

// takenLists holds HandleDoneList's lists for the next list (a list is
// at most a group's results, or a part of a chain's).
var takenLists = sync.Pool{New: func() any { return new([]takenDone) }}

// decodeDoneList decodes the messages of a TaskDoneList into into, and
// returns them with the error of a malformed one (the messages before
// it are returned). A message without an ID gets its caller and number
// (and its ID, for a method call's, which is not in a group's record).
func decodeDoneList(payload []byte, into []takenDone) ([]takenDone, error) {
	var caller string
	var n uint64
	var numbered bool // the previous message's ID is of the form <caller>.<n>
	err := wire.EachSubmit(payload, func(msg []byte) error {
		into = append(into, takenDone{})
		d := &into[len(into)-1]
		if err := wire.DecodeDoneInto(msg, &d.m); err != nil {
			into = into[:len(into)-1]
			return err
		}
		switch {
		case d.m.ID != "":
			caller, n, numbered = wire.CallNumber(d.m.ID)
		case !numbered:
			into = into[:len(into)-1]
			return wire.ErrMalformed
		default:
			n++
			d.caller, d.n = caller, n
			if d.m.Actor != "" {
				d.m.ID = caller + "." + strconv.FormatUint(n, 10)
			}
		}
		return nil
	})
	return into, err
}

// noteOrders keeps the order of the method calls of taken (as takeDone
// does), before they are taken.
func (ow *Owner) noteOrders(taken []takenDone) {
	for i := range taken {
		if m := &taken[i].m; m.Actor != "" && m.Seq > 0 {
			ow.orders.Note(actorhost.KeyID(m.Actor), m.Seq-1, m.ID)
		}
	}
}

// takeListedLocked stops awaiting the result d holds, as takeDone does
// (by caller and number for a message without its ID), and sets its
// object (nil when it is not awaited) and its ID; awaitMu is held.
func (ow *Owner) takeListedLocked(d *takenDone) {
	if d.m.ID == "" {
		if d.obj = ow.awaited.takeCall(d.caller, d.n); d.obj != nil {
			d.m.ID = d.obj.ID()
			return
		}
		d.m.ID = d.caller + "." + strconv.FormatUint(d.n, 10)
	}
	d.obj = ow.takeAwaitedLocked(d.m.ID)
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

// complete completes obj, the object of the result m holds (nothing
// when obj is nil).
func (ow *Owner) complete(m *wire.Done, obj *objstore.Object) {
	if obj == nil {
		return // cancelled or already failed
	}
	var forgotten Task
	if inlineResult(m) {
		forgotten = ow.forget(m.ID)
	}
	ow.finish(m, obj, forgotten)
}

// inlineResult reports whether m holds its value: its lineage is then
// not needed (forgotten before its object completes).
func inlineResult(m *wire.Done) bool {
	return !m.Resubmit && m.Err == nil && m.Location == ""
}

// finish completes obj, the object of the result m holds, whose lineage
// was forgotten (forgotten, its task, or nil) when it came inline.
func (ow *Owner) finish(m *wire.Done, obj *objstore.Object, forgotten Task) {
	switch {
	case m.RunNs <= 0:
	case inlineResult(m):
		observeTask(forgotten, time.Duration(m.RunNs)) // one look-up for both
	default:
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
