package nodeagent

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/stash"
)

// blocking gives the calling task's CPU back while f waits, so that
// nested tasks never deadlock, and takes it back afterwards.
func blocking(th *exec.Thread, f func()) {
	t, _ := th.Local[localTask].(*task)
	if t == nil || t.node == nil {
		exec.Blocking(th, f) // a concurrent actor's call yields the actor
		return
	}
	t.node.sched.Release(t.demand)
	defer t.node.sched.Reacquire(t.demand)
	f()
}

// Get waits for every future and returns their values. A failed task
// raises its error as kind "task"; a cancelled one as "cancelled".
func (c *Cluster) Get(th *exec.Thread, fs []*exec.Future) ([]exec.Value, error) {
	if c.net != nil {
		sendGroupResults(th)
	}
	if err := waitAll(th, fs); err != nil {
		return nil, err
	}
	out := make([]exec.Value, len(fs))
	for i, f := range fs {
		o := objstore.ObjectOf(f)
		v, err := o.Result()
		if err != nil {
			return nil, raised(o, err)
		}
		out[i] = exec.CopyValue(v)
	}
	runtime.KeepAlive(fs) // as in GetOne: no future dropped while it is read
	return out, nil
}

// GetOne is Get of one future (exec.OneGetter): get(f), the round trip,
// allocates no slices.
func (c *Cluster) GetOne(th *exec.Thread, f *exec.Future) (exec.Value, error) {
	if c.net != nil {
		sendGroupResults(th)
	}
	o := objstore.ObjectOf(f)
	if !o.IsReady() {
		if err := waitObject(th, o); err != nil {
			return exec.None, err
		}
	}
	v, err := o.Result()
	// f stays reachable until its value is here: were it collected while
	// get holds only its object, the program's dropping of it (dropped.go)
	// would release the result at its holder before the fetch.
	runtime.KeepAlive(f)
	if err != nil {
		return exec.None, raised(o, err)
	}
	return exec.CopyValue(v), nil
}

// waitObject is waitAll of one object.
func waitObject(th *exec.Thread, o *objstore.Object) error {
	if t, _ := th.Local[localTask].(*task); t != nil && t.node != nil {
		t.node.sched.Release(t.demand)
		defer t.node.sched.Reacquire(t.demand)
		return waitOne(th, o)
	}
	if th.Yield == nil {
		return waitOne(th, o)
	}
	var cancelled error
	exec.Blocking(th, func() { cancelled = waitOne(th, o) }) // a concurrent actor's call yields the actor
	return cancelled
}

// waitAll blocks until every future is ready or the thread is cancelled.
// It gives the task's resources back while it waits, as blocking does,
// without a closure when it can (a get is on every round trip).
func waitAll(th *exec.Thread, fs []*exec.Future) error {
	pending := false
	for _, f := range fs {
		if !objstore.ObjectOf(f).IsReady() {
			pending = true
			break
		}
	}
	if !pending {
		return nil
	}
	if t, _ := th.Local[localTask].(*task); t != nil && t.node != nil {
		t.node.sched.Release(t.demand)
		defer t.node.sched.Reacquire(t.demand)
		return waitEach(th, fs)
	}
	if th.Yield == nil {
		return waitEach(th, fs)
	}
	var cancelled error
	exec.Blocking(th, func() { cancelled = waitEach(th, fs) }) // a concurrent actor's call yields the actor
	return cancelled
}

// waitEach waits for every future in turn; it stops at the thread's
// cancellation.
func waitEach(th *exec.Thread, fs []*exec.Future) error {
	for _, f := range fs {
		if err := waitOne(th, objstore.ObjectOf(f)); err != nil {
			return err
		}
	}
	return nil
}

// waitOne waits for one object, checking for cancellation of the waiting
// thread now and then.
func waitOne(th *exec.Thread, o *objstore.Object) error {
	select {
	case <-o.Done():
		return nil
	default:
	}
	select {
	case <-o.Done():
		return nil
	case <-th.Done():
		if err := th.StopError(); err != nil {
			return err
		}
		return nil
	}
}

// raised is the error a get of a failed object raises in the caller: a
// fresh copy, so each get adds its own frames.
func raised(o *objstore.Object, err *exec.Error) *exec.Error {
	e := &exec.Error{Kind: exec.KindTask, Pos: err.Pos, Node: err.Node, Cause: err,
		Stack: append([]exec.Frame(nil), err.Stack...)}
	switch {
	case err.Kind == exec.KindCancelled || err.Kind == exec.KindMemory:
		// Not the task's own failure: the run was cancelled, or its job
		// or node ran out of memory (the message names the task).
		e.Kind, e.Msg = err.Kind, err.Msg
	case err.Kind == exec.KindResource && err.Task == "":
		// A task no node can hold (found where it is placed: by the
		// head's scheduler on a cluster, at the call embedded) did not
		// fail, it never ran: the same "resource" error everywhere.
		e.Kind, e.Msg = exec.KindResource, err.Msg
	case err.Kind == exec.KindTask:
		e.Msg = err.Msg
	default:
		e.Msg = o.Name() + " failed: " + err.Msg
	}
	return e
}

// Wait returns the indexes of the ready futures once num are ready or the
// timeout passes.
func (c *Cluster) Wait(th *exec.Thread, fs []*exec.Future, num int, timeout time.Duration) ([]int, error) {
	if c.net != nil {
		sendGroupResults(th)
	}
	if idx, ok := replayedWait(th, fs); ok {
		return c.waitReplayed(th, fs, idx)
	}
	readyNow := func() []int {
		var idx []int
		for i, f := range fs {
			if objstore.ObjectOf(f).IsReady() {
				idx = append(idx, i)
			}
		}
		return idx
	}
	if r := readyNow(); len(r) >= num || timeout == 0 {
		c.logWait(th, fs, r)
		return r, nil
	}
	var count atomic.Int32
	signal := make(chan struct{}, len(fs))
	for _, f := range fs {
		objstore.ObjectOf(f).OnReady(func() {
			count.Add(1)
			signal <- struct{}{}
		})
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	var err error
	blocking(th, func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for int(count.Load()) < num {
			select {
			case <-signal:
			case <-deadline:
				return
			case <-tick.C:
				if serr := th.StopError(); serr != nil {
					err = serr
					return
				}
			}
		}
	})
	ready := readyNow()
	c.logWait(th, fs, ready)
	return ready, err
}

// logWait records which futures a wait found ready: a nondeterministic
// outcome that a faithful replay needs.
func (c *Cluster) logWait(th *exec.Thread, fs []*exec.Future, ready []int) {
	ids := make([]string, len(ready))
	for i, r := range ready {
		ids[i] = fs[r].ID()
	}
	c.lineage.outcome(stash.Outcome{TaskID: th.TaskID, Seq: nextOutcome(th), Kind: stash.KindWait, Data: []byte(strings.Join(ids, ","))})
}

// replayedWait finds, for a task run again, what this wait returned in
// the earlier run: the indexes of the futures it logged as ready.
func replayedWait(th *exec.Thread, fs []*exec.Future) ([]int, bool) {
	o, ok := replayed(th, stash.KindWait)
	if !ok {
		return nil, false
	}
	logged := string(o.Data)
	at := make(map[string]int, len(fs))
	for i, f := range fs {
		at[f.ID()] = i
	}
	var idx []int
	if logged != "" {
		for _, id := range strings.Split(logged, ",") {
			i, ok := at[id]
			if !ok {
				return nil, false // not the same wait: take what is ready now
			}
			idx = append(idx, i)
		}
	}
	return idx, true
}

// replayed is the outcome of kind an earlier run of th's task logged at
// the step th is at, if the task is run again and one was logged.
func replayed(th *exec.Thread, kind stash.Kind) (stash.Outcome, bool) {
	t, _ := th.Local[localTask].(*task)
	if t == nil || t.replay == nil {
		return stash.Outcome{}, false
	}
	seq, _ := th.Local[localOutcomes].(uint64)
	o, ok := t.replay[seq]
	return o, ok && o.Kind == kind
}

// nextOutcome moves th past one logged step and returns its number.
func nextOutcome(th *exec.Thread) uint64 {
	seq, _ := th.Local[localOutcomes].(uint64)
	th.Local[localOutcomes] = seq + 1
	return seq
}

// waitReplayed returns the futures an earlier run's wait returned, once
// they are ready again, so that the run again takes the same path. The
// outcome is logged already.
func (c *Cluster) waitReplayed(th *exec.Thread, fs []*exec.Future, idx []int) ([]int, error) {
	var err error
	blocking(th, func() {
		for _, i := range idx {
			if err = waitOne(th, objstore.ObjectOf(fs[i])); err != nil {
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	nextOutcome(th)
	return idx, nil
}

var putSeq atomic.Uint64

// Put stores a value and returns a ready future for it.
func (c *Cluster) Put(th *exec.Thread, v exec.Value) (*exec.Future, error) {
	id := th.NextCallID() + ".put"
	if th.TaskID == "" {
		id = "put." + strconv.FormatUint(putSeq.Add(1), 10)
	}
	o := objstore.NewObject(id, "put")
	n := nodeOf(th)
	if n == nil {
		n = c.Head()
	}
	n.publish(o, v, nil)
	if _, err := o.Result(); err != nil {
		return nil, err
	}
	return &exec.Future{Handle: o}, nil
}

// ReadOutcome performs a nondeterministic read of a task (the clock, a
// file, the seed of unseeded randomness: exec.OutcomeLogger) and logs its
// result as an outcome; in a task run again it returns the value the
// earlier run logged at this step instead. Reads over maxLoggedRead are
// not logged. The driver and actor methods are never run again from
// their lineage, so their reads are not logged.
func (c *Cluster) ReadOutcome(th *exec.Thread, kind string, read func() (exec.Value, error)) (exec.Value, error) {
	if t, _ := th.Local[localTask].(*task); t == nil || c.lineage == nil || !c.keepsLineage() {
		return read()
	}
	if o, ok := replayed(th, stash.Kind(kind)); ok {
		if v, err := exec.Decode(o.Data); err == nil {
			nextOutcome(th)
			return v, nil
		}
	}
	v, err := read()
	if err != nil || exec.EncodedSize(v) > maxLoggedRead {
		return v, err // not logged: a run again reads afresh
	}
	data, eerr := exec.Encode(nil, v)
	if eerr != nil {
		return v, nil
	}
	c.lineage.outcome(stash.Outcome{TaskID: th.TaskID, Seq: nextOutcome(th), Kind: stash.Kind(kind), Data: data})
	return v, nil
}

// maxLoggedRead bounds the reads ReadOutcome logs: a larger one (a big
// file) would weigh on the lineage more than reading it again costs.
const maxLoggedRead = 64 << 10

// encodeReplay writes a task's logged outcomes for the node that runs it
// again (a stash bundle); nil when there are none.
func encodeReplay(replay map[uint64]stash.Outcome) []byte {
	if len(replay) == 0 {
		return nil
	}
	var b stash.Bundle
	for _, o := range replay {
		b.Outcomes = append(b.Outcomes, stash.OutcomeEntry{Outcome: o})
	}
	return b.Encode()
}

// decodeReplay reads what encodeReplay wrote; nil for nothing or garbage
// (the task then reads and waits afresh).
func decodeReplay(data []byte) map[uint64]stash.Outcome {
	if len(data) == 0 {
		return nil
	}
	b, err := stash.DecodeBundle(data)
	if err != nil || len(b.Outcomes) == 0 {
		return nil
	}
	replay := make(map[uint64]stash.Outcome, len(b.Outcomes))
	for _, oe := range b.Outcomes {
		replay[oe.Outcome.Seq] = oe.Outcome
	}
	return replay
}
