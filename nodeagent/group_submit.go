package nodeagent

import (
	"errors"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/metrics"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A group of calls sent to another node travels as ONE message, a
// wire.GroupSubmit: what its calls share (owner, program, where prints
// go, resources, the group's lineage) once, and per call its ID, its
// function and its arguments, an argument that is an earlier call's
// result named by that call's index in the group. The node decodes it
// into a taskGroup (runGroupSubmit) whose calls pass results from one to
// the next in memory. Each call is still a task of its own for its owner
// (awaited and remembered by its ID, completed by its own result or
// error), so recovery is unchanged: when the node dies each call is run
// again alone (respill), a call waiting for the earlier calls it takes.
//
// A group whose calls differ in what the GroupSubmit holds once (a Go
// function beside a program's task, another program, a call run again
// with outcomes to replay) goes as one Submit message per call
// (groupMessages).

// groupSubmit encodes group g for the node at addr as one GroupSubmit
// message. handled is false when the group cannot travel in that form
// (nothing was done then); msg is nil when the group could not be sent
// whole (its calls were failed or placed again alone).
func (nw *network) groupSubmit(g *taskGroup, addr string) (msg []byte, handled bool) {
	if !uniformGroup(g) {
		return nil, false
	}
	for _, t := range g.tasks {
		if nw.unsendable(t) {
			nw.sendAlone(g.tasks, t)
			return nil, true
		}
	}
	first := g.tasks[0]
	m := nw.groupHeader(first)
	fns := map[string]int{}
	index := memberIndex{tasks: g.tasks}
	// The calls are written as they are read (wire.GroupWriter), each
	// call's arguments made in one slice of room for any of them.
	w := wire.NewGroupWriter(8 * len(g.tasks))
	room := make([]wire.Arg, maxArgCount(g.tasks))
	for i, t := range g.tasks {
		fn := functionIndex(m, fns, t.call.Ref())
		n := len(t.call.Args)
		args, err := nw.groupArgs(t, i, &index, addr, false, room[:n:n])
		if err != nil {
			t.obj.Complete(exec.None, err, "")
			nw.sendAlone(g.tasks[:i], nil)
			nw.sendAlone(g.tasks[i+1:], nil)
			return nil, true
		}
		w.Call(t.call.ID, fn, args)  // keeps nothing of args: the next call's go in the same room
		if w.Len() > maxGroupBytes { // checked before the lineage is forwarded and the calls awaited
			nw.sendAlone(g.tasks, nil)
			return nil, true
		}
	}
	nw.awaitGroup(g.tasks, addr)
	m.Lineage = nw.c.lineage.forwardGroup([]string{first.call.ID}, addr)
	return w.Message(m), true
}

// maxArgCount is the most arguments a call of tasks takes.
func maxArgCount(tasks []*task) int {
	n := 0
	for _, t := range tasks {
		n = max(n, len(t.call.Args))
	}
	return n
}

// groupHeader is a GroupSubmit with what its calls share, taken from
// first (a framable task): its caller's cancel bound and output, this
// process as owner, its resources and program (none for Go functions).
func (nw *network) groupHeader(first *task) *wire.GroupSubmit {
	m := &wire.GroupSubmit{ActorID: first.bound, Owner: nw.addr, Output: nw.outputAddr(first.output),
		Resources: first.call.Resources()}
	if first.call.Native == nil {
		m.ProgramHash = first.call.Func.Program().Hash
	}
	return m
}

// awaitGroup awaits the results of a group's tasks sent whole to addr
// and keeps their lineage, as one record of the owner for the group (one
// for its results, one for its lineage: owner.SentGroup) where its calls
// are one caller's consecutive calls, each call still answered, failed
// and recovered by its own ID.
func (nw *network) awaitGroup(tasks []*task, addr string) {
	owned := make([]owner.Task, len(tasks))
	for i, t := range tasks {
		owned[i] = t
	}
	nw.ow.SentGroup(owned, addr)
}

// uniformGroup reports whether the calls of g share what a GroupSubmit
// holds once: all of one program (or all Go functions), one caller's
// output and cancel bound, and none is a call run again.
func uniformGroup(g *taskGroup) bool {
	first := g.tasks[0]
	if !framable(first) {
		return false
	}
	for _, t := range g.tasks {
		if !sameSender(first, t) {
			return false
		}
	}
	return true
}

// memberIndex finds which call of a group makes an object: most often
// the call just before (a fused chain), so the index is built only when
// another is asked for.
type memberIndex struct {
	tasks []*task
	byObj map[*objstore.Object]int
}

// of returns the 1-based index of the call among the first n of the
// group that makes o, or 0.
func (x *memberIndex) of(o *objstore.Object, n int) int {
	if o == nil || n == 0 {
		return 0
	}
	if x.tasks[n-1].obj == o {
		return n
	}
	if x.byObj == nil {
		x.byObj = make(map[*objstore.Object]int, len(x.tasks))
		for i, t := range x.tasks {
			x.byObj[t.obj] = i + 1
		}
	}
	if k := x.byObj[o]; k > 0 && k <= n {
		return k
	}
	return 0
}

// groupArgs turns the arguments of call i of a group going to addr into
// what travels, in args (as long as the call's arguments; nil: made
// here): an earlier call's result as its index, the others as a task's
// arguments go (argOnWire; lent to the task when lend, as to a plain
// task sent alone: a loose frame's tasks are plain tasks).
func (nw *network) groupArgs(t *task, i int, index *memberIndex, addr string, lend bool, args []wire.Arg) ([]wire.Arg, *exec.Error) {
	if len(t.call.Args) == 0 {
		return nil, nil
	}
	if args == nil {
		args = make([]wire.Arg, len(t.call.Args))
	}
	for j, a := range t.call.Args {
		if a.Kind() == exec.FutureKind {
			o := objstore.ObjectOf(a.AsFuture())
			if k := index.of(o, i); k > 0 {
				o.MarkShared() // its value is read on the node too
				args[j] = wire.Arg{Member: k}
				continue
			}
		}
		arg, err := nw.argOnWire(a, t.call.ID, j, lend)
		if err != nil {
			why := err.Error()
			var xe *exec.Error
			if errors.As(err, &xe) {
				why = xe.Msg
			}
			return nil, exec.Errorf(exec.KindType, "cannot send an argument of %s to another node: %s", t.call.Name(), why)
		}
		args[j] = arg
	}
	return args, nil
}

// runGroupSubmit runs a group another process sent in one GroupSubmit,
// as runGroupForOwner runs one sent as a message per call: in order on
// one worker slot of this node, once the futures its calls take from
// outside the group are ready, each call reporting its own result. What
// the calls of one function share (the function, its demand, its
// counters) is found once per function, not once per call.
func (nw *network) runGroupSubmit(gm *wire.GroupSubmit) error {
	nw.c.lineage.receive(gm.Lineage, gm.Owner)
	prog, refused, err := nw.groupProgram(gm)
	if refused || err != nil {
		return err // nothing of the group has started: its owner sends each call again
	}
	if gm.Loose {
		return nw.runLooseTasks(gm, prog)
	}
	callees := make([]*groupCallee, len(gm.Functions))
	dones := &doneList{nw: nw, owner: gm.Owner, calls: -1}
	if r, ok, err := nw.fusedRunOf(gm, prog, callees, dones); err != nil || ok {
		if ok {
			nw.startFused(gm, r)
		}
		return err
	}
	g := &taskGroup{tasks: make([]*task, 0, len(gm.Calls)), run: groupRun{dones: dones}}
	made := make([]*objstore.Object, len(gm.Calls))
	var outside []exec.Value
	for i, c := range gm.Calls {
		args := make([]exec.Value, len(c.Args))
		for j, a := range c.Args {
			if a.Member > 0 {
				o := made[a.Member-1]
				args[j] = exec.FutureValue(&exec.Future{Handle: o})
				continue
			}
			v, err := nw.argValue(a)
			if err != nil {
				return err
			}
			args[j] = v
			if v.Kind() == exec.FutureKind {
				outside = append(outside, v)
			}
		}
		if callees[c.Fn] == nil {
			callees[c.Fn] = nw.groupCallee(prog, gm.Functions[c.Fn])
		}
		t, failed := nw.groupTask(gm, c, callees[c.Fn], dones)
		if t == nil {
			made[i] = failed
			continue
		}
		t.call.Args = args
		made[i] = t.obj
		g.demand = t.demand
		g.add(t)
	}
	if nw.enqueueReceivedGroup(g, dones, outside) {
		nw.groupMsgs.Add(1)
	}
	return nil
}

// groupCallMessage is call c of gm as the message it would have been
// alone, for the paths that fail a call for its owner.
func groupCallMessage(gm *wire.GroupSubmit, c wire.GroupCall) *wire.Submit {
	return &wire.Submit{Kind: wire.SubmitTask, ID: c.ID, ActorID: gm.ActorID, Owner: gm.Owner, ProgramHash: gm.ProgramHash,
		Function: gm.Functions[c.Fn], Resources: gm.Resources, Output: gm.Output}
}

// groupCallee is what the calls of one function of a GroupSubmit share:
// the function (a Go function registered as a task when native is set),
// its demand and the name its objects go by; or why it cannot run here.
type groupCallee struct {
	fn     *exec.Function
	native *exec.NativeTask
	demand resources.Resources
	name   string
	counts *metrics.TaskCounts
	err    *exec.Error
}

// groupCallee finds the function ref (its name, with call-site options
// after a "?") of program prog (nil: a Go function) and its demand: once
// per function of a group, once per call of a message alone
// (taskForOwner).
func (nw *network) groupCallee(prog *exec.Program, ref string) *groupCallee {
	name := calleeName(ref) // ref: the name, and its call-site options after '?'
	ce := &groupCallee{name: "task '" + name + "'", counts: nw.c.Head().taskCounts(name)}
	call := &exec.TaskCall{}
	if prog == nil {
		if ce.native = nw.nativeTask(name); ce.native == nil {
			ce.err = exec.Errorf(exec.KindName, "node %s cannot run Go task '%s': it is not registered in that node's process; register the same Go functions in every node's process (nodeagent.Config.Modules, see rayflow.HostModules)",
				nw.c.Head().ID, name)
			return ce
		}
		call.Native = ce.native
	} else {
		f, ok := prog.FuncByName(ref)
		if !ok || f.Kind != "task" {
			ce.err = exec.Errorf(exec.KindName, "node %s cannot run task '%s': its program has no such task", nw.c.Head().ID, name)
			return ce
		}
		ce.fn, call.Func = f, f
	}
	demand, _, err := nw.c.demandFor(call)
	if err != nil {
		ce.err = exec.Errorf(exec.KindResource, "%v", err)
	}
	ce.demand = demand
	return ce
}

// groupTask makes the task of call c of gm, as taskForOwner makes the
// task of a message, reporting its result through dones (nil: alone); a
// call that cannot run here is failed for its owner at once (then the
// task is nil and failed its object).
func (nw *network) groupTask(gm *wire.GroupSubmit, c wire.GroupCall, ce *groupCallee, dones *doneList) (t *task, failed *objstore.Object) {
	if ce.err != nil {
		return nil, nw.failForOwner(groupCallMessage(gm, c), ce.err)
	}
	return nw.ownedTask(c.ID, ce, gm.Owner, gm.Output, gm.ActorID, dones), nil
}

// groupProgram loads the program of gm's calls (nil for Go functions);
// when this node refuses it, every call is failed for its owner and
// refused is true.
func (nw *network) groupProgram(gm *wire.GroupSubmit) (prog *exec.Program, refused bool, err error) {
	if gm.ProgramHash == "" {
		return nil, false, nil
	}
	p, err := nw.program(gm.ProgramHash)
	var refusal *refusedProgramError
	if errors.As(err, &refusal) {
		for _, c := range gm.Calls {
			nw.failForOwner(groupCallMessage(gm, c), exec.Errorf(exec.KindName, "%s", refusal.msg))
		}
		return nil, true, nil
	}
	return p, false, err
}

// runLooseTasks starts the independent tasks of a loose frame as
// handleMessage starts a task sent alone: each with its lineage (the
// frame's, taken in by runGroupSubmit; a call's own from older senders), queued
// on its own once its arguments are ready, reporting its own result. A
// task whose arguments do not decode is left out, and the frame's error
// says so (its owner sends the frame's tasks again), as for messages
// sent one by one.
func (nw *network) runLooseTasks(gm *wire.GroupSubmit, prog *exec.Program) error {
	callees := make([]*groupCallee, len(gm.Functions))
	var firstErr error
	for _, c := range gm.Calls {
		nw.c.lineage.receive(c.Lineage, gm.Owner)
		args := make([]exec.Value, len(c.Args))
		var err error
		for j, a := range c.Args {
			if args[j], err = nw.argValue(a); err != nil {
				break
			}
			if a.ObjectID != "" {
				nw.borrowArg(args[j].AsFuture(), gm.Owner) // lent by its sender (borrow.go)
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if callees[c.Fn] == nil {
			callees[c.Fn] = nw.groupCallee(prog, gm.Functions[c.Fn])
		}
		t, _ := nw.groupTask(gm, c, callees[c.Fn], nil)
		nw.looseTasks.Add(1)
		nw.startForOwner(t, args)
	}
	return firstErr
}

// looseFrames encodes, for the node at addr, the tasks among tasks that
// can travel in loose frames (wire.GroupSubmit with Loose: what they
// share once, their lineage included, as one bundle; each call its ID,
// function and arguments), and
// returns those messages, the tasks they send, and the tasks that go as
// a message each (a call run again, with outcomes to replay, or one that
// shares nothing with the first). A task that cannot be sent (it
// failed) is in neither list.
func (nw *network) looseFrames(tasks []*task, addr string) (msgs [][]byte, sent [][]*task, rest []*task) {
	var m *wire.GroupSubmit
	var calls []*task
	var fns map[string]int
	size := 0
	flush := func() {
		if m != nil && len(m.Calls) > 0 {
			m.Lineage = nw.frameLineage(calls, addr)
			msgs = append(msgs, m.Encode())
			sent = append(sent, calls)
		}
		m, calls, fns, size = nil, nil, nil, 0
	}
	var first *task
	for _, t := range tasks {
		if first == nil && framable(t) {
			first = t
		}
		if first == nil || !sameFrame(first, t) {
			rest = append(rest, t)
			continue
		}
		c, ok := nw.looseCall(t, addr)
		if !ok {
			continue
		}
		if m == nil {
			m = nw.groupHeader(first)
			m.Loose = true
			fns = map[string]int{}
		}
		c.Fn = functionIndex(m, fns, t.call.Ref())
		m.Calls = append(m.Calls, c)
		calls = append(calls, t)
		for _, a := range c.Args {
			size += 8 + len(a.Inline) + len(a.ObjectID) + len(a.Location) + len(a.Name)
		}
		if size += 16 + len(c.ID) + lineageGuess(c); size > maxFrameBytes/2 {
			flush()
		}
	}
	flush()
	return msgs, sent, rest
}

// framable reports whether t can travel in a loose frame at all: not a
// call run again (with outcomes to replay), and a Go function or a task
// of a program the cluster knows.
func framable(t *task) bool {
	if t.replay != nil {
		return false
	}
	if t.call.Native != nil {
		return true
	}
	if t.call.Func == nil {
		return false
	}
	p := t.call.Func.Program()
	return p != nil && p.Hash != ""
}

// sameFrame reports whether t can travel in a loose frame with first (a
// framable task): as in one GroupSubmit (sameSender), and of the same
// resource demand.
func sameFrame(first, t *task) bool {
	return sameSender(first, t) && equalDemand(t.demand, first.demand)
}

// sameSender reports whether t shares with first (a framable task) what
// a GroupSubmit holds once: t is framable, of the same program (or Go
// functions both), with one caller's output and cancel bound.
func sameSender(first, t *task) bool {
	if !framable(t) || t.output != first.output || t.bound != first.bound {
		return false
	}
	if first.call.Native != nil || t.call.Native != nil {
		return first.call.Native != nil && t.call.Native != nil
	}
	return t.call.Func.Program() == first.call.Func.Program()
}

// looseCall is task t as a call of a loose frame to addr, awaited from
// there; false when t cannot be sent (it has failed), as taskMessage.
func (nw *network) looseCall(t *task, addr string) (wire.GroupCall, bool) {
	if nw.unsendable(t) {
		return wire.GroupCall{}, false
	}
	args, err := nw.groupArgs(t, 0, &memberIndex{}, addr, true, nil)
	if err != nil {
		t.obj.Complete(exec.None, err, "")
		return wire.GroupCall{}, false
	}
	nw.ow.Await(t.obj, addr)
	nw.ow.Remember(t)
	return wire.GroupCall{ID: t.call.ID, Args: args}, true // its lineage travels with the frame's (frameLineage)
}

// frameLineage is the uncommitted lineage the calls of a loose frame to
// addr need, as one bundle for the whole frame (the receiver takes it in
// before it starts any of them: runGroupSubmit).
func (nw *network) frameLineage(calls []*task, addr string) []byte {
	ids := make([]string, len(calls))
	for i, t := range calls {
		ids[i] = t.call.ID
	}
	return nw.c.lineage.forwardAll(ids, addr)
}

// lineageGuess is about the size of call c's own record in its frame's
// lineage (its ID, twice, and its arguments), for cutting frames before
// the lineage is known.
func lineageGuess(c wire.GroupCall) int {
	n := 64 + 2*len(c.ID)
	for _, a := range c.Args {
		n += 8 + len(a.Inline) + len(a.ObjectID) + len(a.Location)
	}
	return n
}

// functionIndex is name's index in m's functions, added there on its
// first call (fns remembers the indexes given).
func functionIndex(m *wire.GroupSubmit, fns map[string]int, name string) int {
	fn, ok := fns[name]
	if !ok {
		fn = len(m.Functions)
		fns[name] = fn
		m.Functions = append(m.Functions, name)
	}
	return fn
}
