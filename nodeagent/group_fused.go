package nodeagent

import (
	"fmt"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A group another process sent here in one GroupSubmit (a fused chain,
// a batch) runs as ONE task on this node when it can (fusable): no task
// record, no object and no completion per call. Its calls run in order
// on one worker, each on the thread the one before ran on; each call's
// result or error is kept by its index in the group (fusedRun.results),
// and a call taking an earlier call's result (wire.Arg.Member) reads it
// there. Each call's result is still reported to its owner, by its own
// task ID, in the group's doneList (group_done.go): for the owner
// nothing changes, so recovery is unchanged (the owner awaits each call
// and runs those not reported again when this node dies). Only a result
// too large to travel inline becomes an object of this node's store (its
// owner fetches it from here).
//
// What a call alone has and a call of a fused run has not: it cannot be
// cancelled on its own once its group runs (a cancel covering it before
// its turn stops it; the first call, running, is stopped as a task is),
// the memory monitor stops the run only in its first call (the others
// are bounded by the job's step limit, as every call), and a call
// waiting or running across a report of task events is not listed as
// such (its submission is recorded by its owner, its end here as a
// task's: noteEnded). So a group runs this way only when its calls
// need nothing else (fusable): tasks of a program, deterministic, without
// @retries(errors=true), making no task or actor call themselves (nor
// through the fns of their program), taking no future from outside the
// group.
//
// The run belongs to the worker that runs its taskGroup; nothing else
// touches fusedRun after runGroupSubmit made it.

// fusedRun is what a group run as one task holds.
type fusedRun struct {
	output string // where the calls' prints go
	calls  []fusedCall
	// refs are the arguments that are results of earlier calls of the
	// group, in call order (and argument order within a call).
	refs    []memberRef
	results []fusedResult // by call index, filled as the calls end
	dones   *doneList
	// call and done are the call running and its completion, made once
	// for the run (neither is kept past its call).
	call exec.TaskCall
	done wire.Done
	// locals is how many entries the thread's Local had when the last
	// call's thread was readied anew (callThread).
	locals int
	// events are the ends of calls not given to the recorder yet
	// (noteEnded); nil when the process records none.
	events []taskevents.Event
}

// fusedCall is one call of a fused run.
type fusedCall struct {
	id   string
	ce   *groupCallee
	args []exec.Value // a member argument is filled when the call's turn comes
}

// memberRef is argument arg of call `call` that is the result of the
// earlier call member (0-based); 12 bytes, as many as a run has calls
// (a group has at most a few thousand calls, and arguments).
type memberRef struct {
	call, arg, member int32
}

// fusedResult is what a call of a fused run ended with: its value, or
// its error, or the store's object holding a value too large to keep
// in the run.
type fusedResult struct {
	val exec.Value
	err *exec.Error
	obj *objstore.Object
	// dep is set when err is the error of a call that could not start
	// because an earlier call of the run failed (dependencyError).
	dep bool
}

// value is the result as a later call of the run reads it.
func (r *fusedResult) value() (exec.Value, *exec.Error) {
	if r.obj != nil {
		return r.obj.Result()
	}
	return r.val, r.err
}

// fusable reports whether the calls of gm (with their callees found)
// can run as one task: see the comment at the top of this file.
func fusable(gm *wire.GroupSubmit, prog *exec.Program, callees []*groupCallee) bool {
	if gm.Loose || prog == nil || prog.Compiled == nil || len(gm.Calls) < 2 {
		return false
	}
	for _, ce := range callees {
		if ce.err != nil || ce.fn == nil || ce.fn.Info == nil {
			return false
		}
		if info := ce.fn.Info; !info.Deterministic || (info.RetryErrors && info.Retries > 0) || info.Actor != nil {
			return false
		}
	}
	for _, s := range prog.Compiled.Sites {
		if s.Enclosing == nil || s.Enclosing.Kind == "fn" {
			return false // a fn that makes calls: any task may reach it
		}
		for _, ce := range callees {
			if s.Enclosing == ce.fn.Info {
				return false
			}
		}
	}
	return true
}

// newFusedRun decodes the calls of gm into a fused run; ok is false when
// a call takes a future from outside the group (then the group runs as
// tasks: it must wait for that future). An argument that does not
// decode is the error.
func (nw *network) newFusedRun(gm *wire.GroupSubmit, callees []*groupCallee, dones *doneList) (r *fusedRun, ok bool, err error) {
	r = &fusedRun{output: gm.Output, calls: make([]fusedCall, len(gm.Calls)),
		results: make([]fusedResult, len(gm.Calls)), dones: dones}
	n, members := 0, 0
	for _, c := range gm.Calls {
		n += len(c.Args)
		for _, a := range c.Args {
			if a.Member > 0 {
				members++
			}
		}
	}
	r.refs = make([]memberRef, 0, members)
	all := make([]exec.Value, n) // the calls' arguments, one after the other
	for i, c := range gm.Calls {
		args := all[:len(c.Args):len(c.Args)]
		all = all[len(c.Args):]
		for j, a := range c.Args {
			if a.Member > 0 {
				if a.Member > i {
					return nil, false, fmt.Errorf("call %d of a group takes the result of call %d, not an earlier one", i+1, a.Member)
				}
				r.refs = append(r.refs, memberRef{call: int32(i), arg: int32(j), member: int32(a.Member - 1)})
				continue
			}
			v, err := nw.argValue(a)
			if err != nil {
				return nil, false, err
			}
			if v.Kind() == exec.FutureKind {
				return nil, false, nil
			}
			args[j] = v
		}
		r.calls[i] = fusedCall{id: c.ID, ce: callees[c.Fn], args: args}
	}
	if len(r.refs) > 0 && dones != nil { // a chain: its results go back in parts as it runs
		dones.streamEvery(chainPart)
	}
	return r, true, nil
}

// startFused queues a fused run as one unit of this node's queue: a
// taskGroup whose one task carries the run (the thread context of its
// calls: their output, their cancel bound, the node and demand a call
// that waits gives back).
func (nw *network) startFused(gm *wire.GroupSubmit, r *fusedRun) {
	first := r.calls[0]
	carrier := &task{call: &exec.TaskCall{ID: first.id, Func: first.ce.fn}, obj: objstore.NewObject(first.id, first.ce.name),
		demand: first.ce.demand, output: gm.Output, owner: gm.Owner, bound: gm.ActorID}
	g := &taskGroup{tasks: make([]*task, 0, 1), demand: first.ce.demand, fused: r, run: groupRun{dones: r.dones}}
	g.add(carrier)
	nw.c.stats.Submitted.Add(int64(len(r.calls)))
	for _, c := range r.calls {
		c.ce.counts.Submitted.Add(1)
	}
	r.dones.expect(len(r.calls))
	nw.groupsIn.Add(1)
	nw.groupMsgs.Add(1)
	nw.fusedRuns.Add(1)
	nw.c.Head().enqueueGroup(g)
}

// runFused runs the calls of g's fused run in order on worker.
func (g *taskGroup) runFused(worker int) {
	n, r, carrier := g.node, g.fused, g.tasks[0]
	c := n.cluster
	carrier.worker = worker
	lim := c.limitsOf(carrier.call)
	c.caps.note(jobOf(carrier.call.ID), lim.maxMemory)
	var th *exec.Thread
	ref := 0
	if c.events != nil {
		r.events = make([]taskevents.Event, 0, min(len(r.calls), eventsPart))
	}
	// now is when the last call ended: the next one's start (one clock
	// read a call, not two; what happens in between is the run's own).
	// A call's end is read on the monotonic clock from the run's start
	// (clock): half the cost of a read of the wall clock.
	clock := time.Now()
	now := clock
	last := len(r.calls) - 1
	for i := range r.calls {
		fc := &r.calls[i]
		var err *exec.Error
		for ; ref < len(r.refs) && int(r.refs[ref].call) == i; ref++ {
			m := r.refs[ref]
			v, merr := r.results[m.member].value()
			if merr != nil && err == nil {
				err = r.dependencyError(fc, m, merr)
			}
			fc.args[m.arg] = v // copied by run
		}
		if err == nil && (c.stop.Load() || c.marks.covers(fc.id, carrier.bound) || (i == 0 && carrier.Cancelled())) {
			err = &exec.Error{Kind: exec.KindCancelled, Msg: fc.ce.name + " was cancelled"}
		}
		if err != nil {
			c.stats.Failed.Add(1)
			fc.ce.counts.Failed.Add(1)
			now = clock.Add(time.Since(clock))
			r.noteEnded(c, callEndedEvent(fc.id, fc.ce.fn.Name(), n.ID, worker, time.Time{}, now, err), i == last)
			r.finish(n, i, exec.None, err, 0)
			r.results[i].dep = err.Kind != exec.KindCancelled
			continue
		}
		th = r.callThread(n, th, fc, carrier, lim.maxSteps)
		if i == 0 {
			carrier.mu.Lock()
			carrier.th = th // a cancel of the first call stops it as it stops a task
			carrier.started.Store(now.UnixNano())
			carrier.mu.Unlock()
			if carrier.Cancelled() {
				th.Cancel(fc.ce.name + " was cancelled")
			}
		}
		c.stats.Running.Add(1)
		started := now
		val, err := r.run(th, fc)
		ended := clock.Add(time.Since(clock))
		now = ended
		var ran time.Duration // reported for an adaptive program only, as a task's (runTask)
		if fc.ce.fn.Program().Adapt != nil {
			ran = ended.Sub(started)
		}
		c.stats.Running.Add(-1)
		if i == 0 {
			carrier.release()
		}
		if err != nil {
			err.MarkNode(n.ID)
			c.stats.Failed.Add(1)
			fc.ce.counts.Failed.Add(1)
		} else {
			c.stats.Done.Add(1)
			fc.ce.counts.Finished.Add(1)
		}
		r.noteEnded(c, callEndedEvent(fc.id, fc.ce.fn.Name(), n.ID, worker, started, ended, err), i == last)
		clear(fc.args) // the values go with the call (its result is kept apart)
		r.finish(n, i, val, err, ran)
	}
	n.putSpareThread(th)
}

// eventsPart is how many calls' ends a fused run gives the recorder at
// once (a buffer of a few KB: a run's memory is fresh pages for a node
// that runs few).
const eventsPart = 32

// noteEnded records e, the end of a call of the run (as noteCallEnded
// does a task's), with the ends before it: the run gives them to the
// recorder eventsPart at a time, and all before its last call's result
// is sent (last), so that its owner, once it has the run's last result,
// finds every call of the run listed as a task's would be.
func (r *fusedRun) noteEnded(c *Cluster, e taskevents.Event, last bool) {
	if r.events == nil {
		return
	}
	r.events = append(r.events, e)
	if last || len(r.events) == cap(r.events) {
		c.events.AddAll(r.events)
		clear(r.events) // the recorder has copies: keep no strings alive here
		r.events = r.events[:0]
	}
}

// callThread readies the thread for call fc: th, the thread of the
// run's previous call (nil for the first), taken again as it is when
// the previous call added nothing to its Local (what a call finds there
// is then exactly what threadFor, the carrier and the output route set
// for the previous call, the same for every call of the run), else one
// readied anew as a task's (threadFor). So a call of a run pays no map
// writes to get its thread.
func (r *fusedRun) callThread(n *Node, th *exec.Thread, fc *fusedCall, carrier *task, maxSteps int64) *exec.Thread {
	if th != nil && r.locals > 0 && len(th.Local) == r.locals {
		th.Reuse(fc.ce.fn.Name(), fc.id)
		th.MaxSteps, th.Yield = maxSteps, nil
		return th
	}
	th = n.threadFor(th, fc.ce.fn.Name(), fc.id)
	th.MaxSteps = maxSteps
	th.StartCallsAt(0)
	th.Local[localTask] = carrier
	n.cluster.routeOutput(th, r.output)
	r.locals = len(th.Local)
	return th
}

// run runs call fc on th; a panic fails the call, as it fails a task
// (failOnPanic).
func (r *fusedRun) run(th *exec.Thread, fc *fusedCall) (val exec.Value, err *exec.Error) {
	defer func() {
		if p := recover(); p != nil {
			val, err = exec.None, panicError(fc.ce.name, p)
		}
	}()
	copyInPlace(fc.args) // decoded here, or an earlier call's result copied: its own
	r.call = exec.TaskCall{ID: fc.id, Func: fc.ce.fn, Args: fc.args}
	return r.call.Run(th, fc.args)
}

// finish keeps the result of call i for the later calls of the run and
// reports it to the call's owner: inline, or, for a value too large to
// travel inline, as an object of this node's store.
func (r *fusedRun) finish(n *Node, i int, val exec.Value, err *exec.Error, ran time.Duration) {
	fc := &r.calls[i]
	r.done = wire.Done{ID: fc.id, RunNs: int64(ran)}
	done := &r.done
	if err == nil && exec.EncodedSize(val) > InlineLimit {
		o := objstore.NewObject(fc.id, fc.ce.name)
		n.publish(o, val, nil)
		r.results[i] = fusedResult{obj: o}
		r.dones.add(o, done)
		return
	}
	r.results[i] = fusedResult{val: val, err: err}
	r.dones.addResult(done, val, err, fc.ce.name)
}

// fusedRunOf finds the callees of gm (into callees) and decodes gm into
// a fused run when it can run as one; ok is false when it cannot (its
// calls then run as tasks), err when an argument does not decode.
func (nw *network) fusedRunOf(gm *wire.GroupSubmit, prog *exec.Program, callees []*groupCallee, dones *doneList) (r *fusedRun, ok bool, err error) {
	if gm.Loose || prog == nil || len(gm.Calls) < 2 {
		return nil, false, nil
	}
	for i, fn := range gm.Functions {
		callees[i] = nw.groupCallee(prog, fn)
	}
	if !fusable(gm, prog, callees) {
		return nil, false, nil
	}
	return nw.newFusedRun(gm, callees, dones)
}

// dependencyError is the error of call fc, which could not start because
// the earlier call of argument m failed with merr: exec.DependencyError,
// as for a task, except that when merr is itself such an error made in
// this run, the new one's cause is merr's cause. The message, the root
// error, the failed task and the positions are the same; the chain of
// causes stays two deep however long the failed part of the run, as it
// must to travel (wire.Done reads at most 20 nested causes).
func (r *fusedRun) dependencyError(fc *fusedCall, m memberRef, merr *exec.Error) *exec.Error {
	err := exec.DependencyError(fc.ce.name, int(m.arg), r.calls[m.member].ce.name, merr)
	if r.results[m.member].dep && merr.Cause != nil {
		err.Cause = merr.Cause
	}
	return err
}
