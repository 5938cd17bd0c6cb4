package nodeagent

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/stash"
)

// task is one submitted task call on its way through a node. A million
// queued tasks keep a million of these (issue 15: ~400 bytes a queued
// task): mind the size class (TestTaskRecordIsSmall) when adding a field.
type task struct {
	call   *exec.TaskCall
	obj    *objstore.Object
	demand resources.Resources
	node   *Node  // where it is queued or runs
	output string // address of the driver that prints this task's output; "" for here
	worker int    // the worker ID it runs on
	// ran is how long it ran, when its call site is adaptive (written by
	// its worker before the task's object completes)
	ran time.Duration
	// owner is the address of the process that sent the task here ("" for
	// this process's own).
	owner string
	// hint is what the call site's placement hint asks for (hintplace.go).
	// nil without one; a pointer keeps a task without it small.
	hint *placeHint
	// replay holds, for a task run again, the outcomes its earlier run
	// logged (wait results, clock and file reads, random seeds), by their
	// sequence number: the run again sees the same ones (replayedWait,
	// ReadOutcome).
	replay map[uint64]stash.Outcome
	// bound is the ID of the nearest actor among the task's callers (""
	// for none): cancelling a task above that actor does not reach this
	// one (cancel.go).
	bound string

	// group is what the calls of the task's group share (nil for a task
	// alone).
	group *groupRun

	mu        sync.Mutex
	th        *exec.Thread // while running, until its group takes it back
	cancelled atomic.Bool
	// viaHead: placed again, by the head, not the local view (view.go).
	// It and sendFailures sit beside cancelled, in what would be padding
	// (a queued task is at most 208 bytes: TestTaskRecordIsSmall).
	viaHead bool
	// sendFailures counts the times the owner could not reach the node
	// the task was placed on (at most maxSendFailures+1).
	sendFailures int16
	// queuedOn is the node whose queue the task last entered, and
	// started when its run (its latest attempt) began (Unix nanoseconds;
	// 0: not yet), for the task events (events.go) and the memory monitor
	// (memmonitor.go); read by any goroutine.
	queuedOn atomic.Pointer[Node]
	started  atomic.Int64
}

// The task is its node's local scheduler's work (localsched.Work).
func (t *task) Demand() resources.Resources { return t.demand }
func (t *task) Cancelled() bool             { return t.cancelled.Load() }
func (t *task) Run(worker int) {
	t.worker = worker
	t.node.runTask(t) // recovers its own panics: the worker goes on
	// From here cancelling the task does not reach its thread, which
	// the node's next task may take.
	t.node.putSpareThread(t.release())
}

// The task is also what its owner keeps of it while it runs elsewhere
// (owner.Task).
func (t *task) Call() *exec.TaskCall                      { return t.call }
func (t *task) Object() *objstore.Object                  { return t.obj }
func (t *task) SetReplay(replay map[uint64]stash.Outcome) { t.replay = replay }

// Again is a copy of the task to run again (a rebuild), with a new
// object of the same ID.
func (t *task) Again() owner.Task {
	again := &task{call: t.call, obj: objstore.NewObject(t.obj.ID(), t.obj.Name()), demand: t.demand, output: t.output, bound: t.bound}
	again.obj.SetProducer(again)
	return again
}

// Cancel stops the task: a queued one never starts, a running one is
// interrupted at its next check.
func (t *task) Cancel(reason string) {
	t.stopWith(exec.KindCancelled, reason)
}

// stopWith stops the task as Cancel does, with an error of kind: a
// running one carrying msg, a queued one, when kind is "cancelled",
// saying it was cancelled.
func (t *task) stopWith(kind, msg string) {
	if !t.cancelled.CompareAndSwap(false, true) {
		return
	}
	// The thread is cancelled under t.mu, so that a thread taken back
	// for the next call of a group (release) is never cancelled for
	// this task.
	t.mu.Lock()
	th := t.th
	if th != nil {
		th.Stop(kind, msg)
	}
	t.mu.Unlock()
	if th != nil {
		return
	}
	if kind == exec.KindCancelled {
		msg = fmt.Sprintf("%s was cancelled", t.obj.Name())
	}
	t.noteCancelledQueued()
	t.obj.Complete(exec.None, &exec.Error{Kind: kind, Msg: msg}, "")
}

// runningSince reports whether the task runs now, and since when.
func (t *task) runningSince() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Unix(0, t.started.Load()), t.th != nil && !t.cancelled.Load()
}

// demandOf reads a call site's resource annotation.
func demandOf(res map[string]float64) (resources.Resources, error) {
	if res == nil {
		res = map[string]float64{"cpu": 1}
	}
	return resources.FromMap(res)
}

// Submit starts a task call: it waits for the futures among its direct
// arguments, then is scheduled. The future is returned at once.
func (c *Cluster) Submit(th *exec.Thread, call *exec.TaskCall) (*exec.Future, error) {
	f, err := c.submit(th, call)
	if err == nil {
		c.watchDrop(f)
	}
	return f, err
}

// SubmitInto implements exec.IntoRuntime: Submit, filling fut.
func (c *Cluster) SubmitInto(th *exec.Thread, call *exec.TaskCall, fut *exec.Future) error {
	f, err := c.submit(th, call)
	if err != nil {
		return err
	}
	*fut = *f
	c.watchDrop(fut)
	return nil
}

// submit is Submit without watching the future (dropped.go).
func (c *Cluster) submit(th *exec.Thread, call *exec.TaskCall) (*exec.Future, error) {
	origin := nodeOf(th)
	if c.reuse != nil { // a job run again (reuse.go)
		if f := c.reuseResult(call, origin); f != nil {
			return f, nil
		}
	}
	t, err := c.newTask(th, call, origin, true)
	if err != nil {
		return nil, err
	}
	c.noteSubmitted(t)
	c.countAtDriver(t.obj)
	if !t.obj.IsReady() { // an infeasible task has failed already
		if argsReady(call.Args) {
			c.startTask(origin, t)
		} else {
			whenArgsReady(call.Args, func() { c.startTask(origin, t) })
		}
	}
	// The future is an allocation of its own: kept in the task, it would
	// keep the task record (and its call's arguments) alive for as long
	// as the caller holds the future, past the task's end.
	f := t.future()
	return &f, nil
}

// newTask makes the task of a call submitted on origin by th, with its
// object, and records its lineage when withLineage (a group's calls are
// recorded once, as the group: lineage.recordGroup). Its caller records
// its submission (noteSubmitted, noteGroupSubmitted) and counts its end
// (countAtDriver, countGroupAtDriver).
func (c *Cluster) newTask(th *exec.Thread, call *exec.TaskCall, origin *Node, withLineage bool) (*task, error) {
	return c.newTaskIn(new(task), submitterOf(th), call, origin, withLineage)
}

// submitter is what the tasks one thread submits share, read from the
// thread once: where their prints go and the actor that bounds their
// cancelling.
type submitter struct{ output, bound string }

func submitterOf(th *exec.Thread) submitter {
	return submitter{output: outputOf(th), bound: cancelBound(th)}
}

// newTaskIn is newTask making the task in t, a zero record, for calls of
// by: a group makes its calls' records in one allocation and reads its
// thread once (SubmitGroup).
func (c *Cluster) newTaskIn(t *task, by submitter, call *exec.TaskCall, origin *Node, withLineage bool) (*task, error) {
	demand, name, err := c.demandFor(call)
	if err != nil && !c.infeasible(call) {
		return nil, err
	}
	t.init(by, call, demand, name)
	if err != nil {
		// No node can ever run it: the call returns a future that has
		// failed with a "resource" error, which get raises, as on a
		// cluster, where the heads find it when the task is placed.
		c.stats.Submitted.Add(1)
		c.stats.Failed.Add(1)
		fn := origin.taskCounts(call.Name())
		fn.Submitted.Add(1)
		fn.Failed.Add(1)
		var xe *exec.Error
		if !errors.As(err, &xe) {
			xe = exec.Errorf(exec.KindResource, "%v", err)
		}
		t.obj.Complete(exec.None, xe, "")
		return t, nil
	}
	t.obj.SetProducer(t)
	c.stats.Submitted.Add(1)
	origin.taskCounts(call.Name()).Submitted.Add(1)
	if withLineage {
		// The call was just made here: its ID is fresh.
		if err := c.lineage.record(call, origin.ID, true); err != nil {
			return nil, exec.Errorf(exec.KindLost, "cannot write the lineage of %s to the GCS (--lineage=sync): %v", name, err)
		}
	}
	c.stopIfCancelled(t) // its caller's subtree was cancelled: it never starts
	return t, nil
}

// init makes t, a zero record, the task of call by by, with its object
// named name and its demand.
func (t *task) init(by submitter, call *exec.TaskCall, demand resources.Resources, name string) {
	t.call, t.obj, t.demand, t.output, t.bound = call, objstore.NewObject(call.ID, name), demand, by.output, by.bound
}

// future is the caller's future of the task.
func (t *task) future() exec.Future {
	return exec.Future{Handle: t.obj}
}

// callee identifies what a call runs, for caches keyed by the callee.
func callee(call *exec.TaskCall) any {
	if call.Native != nil {
		return call.Native
	}
	return call.Func
}

// demandEntry is a callee's parsed resources, whether they fit, and
// the name its objects go by in messages (made once, shared).
type demandEntry struct {
	demand resources.Resources
	name   string
	err    error
	// infeasible: err says no node can ever run the demand (the demand
	// itself is well formed).
	infeasible bool
}

// demandFor parses a callee's resources once and checks, once, that some
// node could ever run them: neither changes while the cluster runs.
func (c *Cluster) demandFor(call *exec.TaskCall) (resources.Resources, string, error) {
	de := c.demandEntryOf(call)
	return de.demand, de.name, de.err
}

// demandEntryOf is what demandFor finds for call, made once per callee.
func (c *Cluster) demandEntryOf(call *exec.TaskCall) demandEntry {
	key := callee(call)
	if e, ok := c.demands.Load(key); ok {
		return e.(demandEntry)
	}
	quoted := "'" + call.Name() + "'"
	demand, err := demandOf(call.Resources())
	infeasible := false
	if err != nil {
		err = exec.Errorf(exec.KindResource, "task %s: %v", quoted, err)
	} else {
		err = c.feasibleHere(quoted, demand)
		infeasible = err != nil
	}
	de := demandEntry{demand: demand, name: "task " + quoted, err: err, infeasible: infeasible}
	c.demands.Store(key, de)
	return de
}

// infeasible reports whether demandFor found that no node can ever run
// call's demand.
func (c *Cluster) infeasible(call *exec.TaskCall) bool {
	e, ok := c.demands.Load(callee(call))
	return ok && e.(demandEntry).infeasible
}

// feasible checks that some node could ever run the demand.
func (c *Cluster) feasible(id string, demand resources.Resources) error {
	snap := &placement.Snapshot{Nodes: make([]placement.NodeState, len(c.nodes))}
	for i, n := range c.nodes {
		snap.Nodes[i] = placement.NodeState{ID: n.ID, Alive: true, Total: n.sched.Total(), Available: n.sched.Total()}
	}
	if _, err := placement.Place(placement.Request{TaskID: id, Demand: demand}, snap); err != nil {
		return exec.Errorf(exec.KindResource, "%v", err)
	}
	return nil
}

// feasibleHere checks feasibility against this process's nodes; in a
// cluster the head's global scheduler does it when the task spills.
func (c *Cluster) feasibleHere(name string, demand resources.Resources) error {
	return c.scope.checkFeasible(name, demand)
}

// argsReady reports whether every future among args is ready.
func argsReady(args []exec.Value) bool {
	for _, a := range args {
		if a.Kind() == exec.FutureKind {
			if o := objstore.ObjectOf(a.AsFuture()); o != nil && !o.IsReady() {
				return false
			}
		}
	}
	return true
}

// whenArgsReady calls f once every future among args is ready.
func whenArgsReady(args []exec.Value, f func()) {
	var pending atomic.Int32
	pending.Store(1)
	done := func() {
		if pending.Add(-1) == 0 {
			f()
		}
	}
	for _, a := range args {
		if a.Kind() == exec.FutureKind {
			if o := objstore.ObjectOf(a.AsFuture()); o != nil {
				pending.Add(1)
				o.OnReady(done)
			}
		}
	}
	done()
}

// argsOf is what t's body runs with: its call's arguments themselves
// when they are plain values (no future to wait for, nothing the body
// could change: what CopyValue returns as it is) and an interpreted body
// takes them, which copies them into its frame; else a list of its own,
// its futures replaced by their values (resolveArgs). shared says which.
func argsOf(t *task) (args []exec.Value, shared bool, err *exec.Error) {
	if t.call.Func != nil && plainValues(t.call.Args) {
		return t.call.Args, true, nil
	}
	args, err = resolveArgs(t.obj.Name(), t.call.Args)
	return args, false, err
}

// plainValues reports whether every one of args is a value no task can
// change: none, a bool, a number, a string or a tensor.
func plainValues(args []exec.Value) bool {
	for _, a := range args {
		switch a.Kind() {
		case exec.NoneKind, exec.BoolKind, exec.IntKind, exec.FloatKind, exec.StringKind, exec.TensorKind:
		default:
			return false
		}
	}
	return true
}

// resolveArgs replaces the futures among args by their values. A failed
// dependency is returned as the error the task fails with.
func resolveArgs(name string, args []exec.Value) ([]exec.Value, *exec.Error) {
	out := make([]exec.Value, len(args))
	for i, a := range args {
		out[i] = a
		if a.Kind() != exec.FutureKind {
			continue
		}
		o := objstore.ObjectOf(a.AsFuture())
		<-o.Done()
		v, err := o.Result()
		if err != nil {
			return nil, exec.DependencyError(name, i, o.Name(), err)
		}
		out[i] = exec.CopyValue(v)
	}
	return out, nil
}

func (c *Cluster) startTask(origin *Node, t *task) {
	if c.stopIfCancelled(t) {
		return
	}
	origin.schedule(t)
}

// runTask runs one task on a worker goroutine of node n and publishes
// its result. It is called straight from the worker (task.Run,
// taskGroup.Run), with no frame between, so that the task body starts as
// shallow on the worker's stack as it can.
func (n *Node) runTask(t *task) {
	c := n.cluster
	defer failOnPanic(t.obj)
	if c.stopIfCancelled(t) {
		t.endInGroup(time.Time{})
		return
	}
	args, shared, depErr := argsOf(t)
	if depErr != nil {
		c.stats.Failed.Add(1)
		n.taskCounts(t.call.Name()).Failed.Add(1)
		c.noteEnded(t, n.ID, -1, time.Time{}, time.Now(), depErr)
		t.obj.Complete(exec.None, depErr, n.ID)
		t.endInGroup(time.Time{})
		return
	}
	c.stats.Running.Add(1)
	started := startOf(t) // the first attempt's start too (attempts)
	val, err := n.attempts(t, args, shared, started)
	ended := time.Now()
	t.endInGroup(ended)
	if f := t.call.Func; f != nil && f.Program().Adapt != nil {
		// A call sent by another process has no call site here (its
		// owner knows it): it reports how long it ran with its result.
		t.ran = ended.Sub(started)
		f.Program().Adapt.Observe(t.call.Site, t.ran)
	}
	c.stats.Running.Add(-1)
	fn := n.taskCounts(t.call.Name())
	if err != nil {
		err.MarkNode(n.ID)
		c.stats.Failed.Add(1)
		fn.Failed.Add(1)
	} else {
		c.stats.Done.Add(1)
		fn.Finished.Add(1)
	}
	c.noteEnded(t, n.ID, t.worker, started, ended, err)
	n.publish(t.obj, val, err)
}

// startOf is when t's run starts: when the call before it in its group
// ended, the two a few steps apart on one worker (one clock reading
// serves both), unless t took a future, whose wait for its value is no
// part of its run; the clock otherwise. The end is taken, so that a call
// that ends without recording its own (a panic) leaves none behind.
func startOf(t *task) time.Time {
	r := t.group
	if r == nil {
		return time.Now()
	}
	last := r.lastEnd
	r.lastEnd = time.Time{}
	if last.IsZero() || hasFuture(t.call.Args) {
		return time.Now()
	}
	return last
}

// endInGroup records when t's run ended for the next call of its group
// (startOf); zero when it did not run.
func (t *task) endInGroup(ended time.Time) {
	if t.group != nil {
		t.group.lastEnd = ended
	}
}

// hasFuture reports whether a future is among args.
func hasFuture(args []exec.Value) bool {
	for _, a := range args {
		if a.Kind() == exec.FutureKind {
			return true
		}
	}
	return false
}

// attempts runs the task body, again after its own error when it was
// declared @retries(n, errors=true): up to n more times. Each attempt
// is a fresh thread with the same task ID; attempt k numbers its calls
// from k×attemptCallSpan, so each attempt's calls have IDs of their own
// (an actor answers a repeated call ID from its first run, which would
// make a retry see the failed attempt's answers), and the same IDs
// whenever that attempt runs again.
//
// started is when the first attempt starts (the caller read the clock
// just before: one reading serves both). shared says that args are the
// call's own (argsOf): an attempt runs with them as they are.
func (n *Node) attempts(t *task, args []exec.Value, shared bool, started time.Time) (exec.Value, *exec.Error) {
	info := t.call.Info()
	extra := 0
	if info != nil && info.RetryErrors && info.Retries > 0 {
		extra = info.Retries
	}
	var outcomes any                  // the logged steps of the earlier attempts
	lim := n.cluster.limitsOf(t.call) // the job's, shipped with its program
	n.cluster.caps.note(jobOf(t.call.ID), lim.maxMemory)
	for attempt := 0; ; attempt++ {
		th := n.threadFor(t.takeSpare(), t.call.Name(), t.call.ID)
		th.MaxSteps = lim.maxSteps
		th.StartCallsAt(uint64(attempt) * attemptCallSpan)
		th.Local[localTask] = t
		if outcomes != nil {
			// Outcomes go on numbering across attempts, so that one
			// attempt's logged steps do not take an earlier one's keys.
			th.Local[localOutcomes] = outcomes
		}
		n.cluster.routeOutput(th, t.output)
		t.mu.Lock()
		t.th = th
		if attempt > 0 {
			started = time.Now()
		}
		t.started.Store(started.UnixNano())
		t.mu.Unlock()
		if t.Cancelled() {
			th.Cancel(t.obj.Name() + " was cancelled")
		}
		run := args
		switch {
		case attempt < extra:
			run = copyArgs(args) // a later attempt starts from args again
		case !shared:
			copyInPlace(args) // the last attempt: args are its own
		}
		val, err := t.call.Run(th, run)
		if err == nil || err.Kind == exec.KindCancelled || err.Kind == exec.KindMemory || attempt >= extra {
			return val, err
		}
		outcomes = th.Local[localOutcomes]
	}
}

// attemptCallSpan is the range of call numbers each attempt of a task
// has to itself.
const attemptCallSpan = 1_000_000_000

// copyInPlace replaces each of args by a copy of it.
func copyInPlace(args []exec.Value) {
	for i, a := range args {
		args[i] = exec.CopyValue(a)
	}
}

func copyArgs(args []exec.Value) []exec.Value {
	out := make([]exec.Value, len(args))
	for i, a := range args {
		out[i] = exec.CopyValue(a)
	}
	return out
}
