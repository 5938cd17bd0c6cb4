package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/owner"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// Sending work to other nodes (the transport half of the owner's side;
// what the owner keeps of it is package owner's) and doing work for
// other nodes (the executor's side).

// sendTimeout bounds one send of a task or result.
const sendTimeout = owner.SendTimeout

// fillCall sets the program and the arguments of a message.
func (nw *network) fillCall(msg *wire.Submit, prog *exec.Program, args []exec.Value) *exec.Error {
	if prog == nil || prog.Hash == "" {
		return exec.Errorf(exec.KindInternal, "internal error: %s belongs to a program the cluster does not know", msg.Function)
	}
	msg.ProgramHash = prog.Hash
	return nw.fillArgs(msg, args)
}

// fillGroupTask sets what a task message carries: its program (none for
// a Go function registered as a task, which the node finds by name among
// its own modules) and its arguments. For a call of a group going to the
// node at addr, a future of the group's (members) travels as a reference
// to addr, where the call that makes it runs first.
func (nw *network) fillGroupTask(msg *wire.Submit, call *exec.TaskCall, members map[*objstore.Object]bool, addr string) *exec.Error {
	if call.Native == nil {
		prog := call.Func.Program()
		if prog == nil || prog.Hash == "" {
			return exec.Errorf(exec.KindInternal, "internal error: %s belongs to a program the cluster does not know", msg.Function)
		}
		msg.ProgramHash = prog.Hash
	}
	return nw.fillArgsIn(msg, call.Args, members, addr)
}

// fillArgs sets the arguments of a message.
func (nw *network) fillArgs(msg *wire.Submit, args []exec.Value) *exec.Error {
	return nw.fillArgsIn(msg, args, nil, "")
}

// fillArgsIn sets the arguments of a message going to addr, where the
// objects among members are made.
func (nw *network) fillArgsIn(msg *wire.Submit, args []exec.Value, members map[*objstore.Object]bool, addr string) *exec.Error {
	for i, a := range args {
		if a.Kind() == exec.FutureKind {
			if o := objstore.ObjectOf(a.AsFuture()); members[o] {
				o.MarkShared()
				msg.Args = append(msg.Args, wire.Arg{ObjectID: o.ID(), Location: addr, Name: o.Name()})
				continue
			}
		}
		arg, err := nw.argOnWire(a, msg.ID, i, msg.Kind == wire.SubmitTask)
		if err != nil {
			why := err.Error()
			var xe *exec.Error
			if errors.As(err, &xe) {
				why = xe.Msg // not "error: ..." inside the message
			}
			return exec.Errorf(exec.KindType, "cannot send an argument of %s to another node: %s", msg.Function, why)
		}
		msg.Args = append(msg.Args, arg)
	}
	return nil
}

// argOnWire turns one argument into what travels: small values inline,
// large ones and futures as references to where they can be fetched. A
// large value, argument i of task taskID, is served here as object
// TASKID.argI, which starts with its job's ID so that it is released
// with the job. With lend (a plain task's argument), a future or a large
// value is lent to the task (borrow.go): freed once the task's process no
// longer refers to it; otherwise (an actor's or a method call's, which an
// actor may keep and a restart replays) it stays until the job ends.
func (nw *network) argOnWire(v exec.Value, taskID string, i int, lend bool) (wire.Arg, error) {
	if v.Kind() == exec.FutureKind {
		o := objstore.ObjectOf(v.AsFuture())
		if o == nil {
			return wire.Arg{}, fmt.Errorf("unknown future")
		}
		// Lent before its location is read, so that a fetch ending at
		// the same time either finds the lend (and its release waits for
		// the lend to come back) or has brought the value here first.
		var loc string
		if lend {
			nw.lendArg(o)
			loc = o.RemoteLocation()
		} else {
			loc = o.SharedLocation()
		}
		if loc != "" {
			nw.escaping(o.ID()) // a future borrowed here goes further
			return wire.Arg{ObjectID: o.ID(), Location: loc, Name: o.Name()}, nil
		}
		if !o.IsReady() {
			// A dependency still being made (a method call does not wait
			// for its arguments before it is sent, so that calls keep
			// their order): the receiver fetches it from here, which
			// answers once it is ready.
			nw.serveObject(o)
			return wire.Arg{ObjectID: o.ID(), Location: nw.addr, Name: o.Name()}, nil
		}
		if lend {
			nw.returnLends([]string{o.ID()}) // the value is here: it travels as a copy
		}
		val, err := o.Result()
		if err != nil {
			return wire.Arg{}, err
		}
		v = val
	}
	if exec.EncodedSize(v) > InlineLimit*16 {
		o := objstore.NewObject(argCopyID(taskID, i), "argument")
		o.Complete(v, nil, nw.c.Head().ID)
		nw.serveObject(o)
		if lend {
			nw.lendArg(o)
		}
		return wire.Arg{ObjectID: o.ID(), Location: nw.addr}, nil
	}
	data, err := exec.EncodeWith(nil, v, nw)
	return wire.Arg{Inline: data}, err
}

// outputAddr is where the prints of work sent elsewhere go: the driver
// this work comes from, or this process.
func (nw *network) outputAddr(output string) string {
	if output == "" {
		return nw.addr
	}
	return output
}

// fetch reads an object from the node at addr, streamed. An error of
// kind "lost" says the object could not be read from there; any other
// error is the object's own (it holds a failed task's error).
func (nw *network) fetch(id, addr string) (exec.Value, *exec.Error) {
	// A node the heads declared dead is not asked: its objects are gone,
	// and dialling it again would wait out the pool's redial backoff (up
	// to 5 s per object), which made rebuilding many lost objects take
	// minutes (found by the chaos test). A fetch in progress stops when
	// its node is declared dead.
	if nw.isDead(addr) {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("object %s was held by the node at %s, which died", id, addr)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	died := nw.live.Died(addr)
	go func() {
		select {
		case <-ctx.Done():
		case <-died:
			cancel()
		}
	}()
	nw.fetches.Add(1)
	sink := newFetchSink(nw, nw.fetchAhead())
	if err := nw.pool.CallStream(ctx, addr, transport.FetchObject, wire.EncodeStrings(id), sink); err != nil {
		return exec.None, &exec.Error{Kind: exec.KindLost, Msg: fmt.Sprintf("object %s could not be fetched from %s: %v", id, addr, err)}
	}
	v, objErr, err := sink.result()
	if err != nil {
		return exec.None, exec.Errorf(exec.KindLost, "object %s from %s is damaged: %v", id, addr, err)
	}
	return v, objErr
}

// fetchAhead is the most of a fetched tensor allocated before its bytes
// arrive: with a cluster token the peer has proved it belongs to the
// cluster, and a tensor the object store could hold is allocated whole
// and read in place; without one, the decoder's default bound holds.
func (nw *network) fetchAhead() int64 {
	if len(nw.c.cfg.Token) == 0 {
		return 0
	}
	return nw.c.cfg.ObjectStoreMemory
}

// serveObject lets other processes fetch obj by its ID.
func (nw *network) serveObject(o *objstore.Object) {
	nw.mu.Lock()
	nw.served[o.ID()] = o
	nw.mu.Unlock()
}

// A value's encoding is sent from where it lies: a tensor's from its own
// memory (exec.EncodeStream's reader is a transport.ByteSource).
var _ transport.ByteSource = (*exec.SegmentReader)(nil)

// handleFetch streams an object held here, waiting for it if it is not
// ready yet (a future passed on before its task finished); an object that
// failed streams its error (failedObjectReply).
func (nw *network) handleFetch(ctx context.Context, payload []byte) (*transport.Message, error) {
	ss, err := wire.DecodeStrings(payload)
	if err != nil || len(ss) != 1 {
		return nil, wire.ErrMalformed
	}
	o := nw.localObject(ss[0])
	if o == nil {
		return nil, fmt.Errorf("object %s is not held by this node", ss[0])
	}
	select {
	case <-o.Done():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	v, verr := o.Result()
	if verr != nil {
		return failedObjectReply(verr), nil
	}
	r, size, err := exec.EncodeStream(v, nw)
	if err != nil {
		return nil, err
	}
	return transport.NewStreamReply(r, size), nil
}

// handleMessage accepts one decoded Submit message: a task, an actor or
// a method call from another process. The result goes back to the owner
// with TaskDone.
func (nw *network) handleMessage(m *wire.Submit) error {
	switch m.Kind {
	case wire.SubmitCheckpoint:
		return nw.checkpointHosted(m)
	case wire.SubmitStop:
		nw.stopHosted(m.ActorID)
		return nil
	}
	prog, args, refused, err := nw.prepare(m, nil)
	if refused != nil || err != nil {
		return err
	}
	switch m.Kind {
	case wire.SubmitTask:
		t, _ := nw.taskForOwner(prog, m, nil)
		nw.startForOwner(t, args)
		return nil
	case wire.SubmitActor:
		return nw.hostActor(prog, m, args)
	case wire.SubmitMethod:
		return nw.callHosted(m, args)
	}
	return wire.ErrMalformed
}

// prepare receives the lineage a message brings, loads its program (nil
// for a Go function registered as a task) and decodes its arguments; an
// argument that is an object of made (the earlier calls of its group)
// is that object. A task whose program this node refuses is failed for
// its owner at once: refused is its failed object.
func (nw *network) prepare(m *wire.Submit, made map[string]*objstore.Object) (prog *exec.Program, args []exec.Value, refused *objstore.Object, err error) {
	nw.c.lineage.receive(m.Lineage, m.Owner)
	if m.Kind != wire.SubmitTask || m.ProgramHash != "" {
		p, err := nw.program(m.ProgramHash)
		var refusal *refusedProgramError
		if m.Kind == wire.SubmitTask && errors.As(err, &refusal) {
			return nil, nil, nw.failForOwner(m, exec.Errorf(exec.KindName, "%s", refusal.msg)), nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		prog = p
	}
	args = make([]exec.Value, len(m.Args))
	for i, a := range m.Args {
		if o := made[a.ObjectID]; o != nil && a.Location == nw.addr {
			args[i] = exec.FutureValue(&exec.Future{Handle: o})
			continue
		}
		if args[i], err = nw.argValue(a); err != nil {
			return nil, nil, nil, err
		}
		if a.ObjectID != "" && m.Kind == wire.SubmitTask {
			nw.borrowArg(args[i].AsFuture(), m.Owner) // lent by its sender (borrow.go)
		}
	}
	return prog, args, nil, nil
}

// argValue turns a received argument into a value: decoded inline, or a
// future whose object is fetched from its location when first read. An
// object that lives here (the global scheduler placed the task where its
// argument is) is read in place, not fetched from this process itself.
func (nw *network) argValue(a wire.Arg) (exec.Value, error) {
	if a.ObjectID == "" {
		return exec.DecodeWith(a.Inline, nw)
	}
	name := a.Name
	if name == "" {
		name = "object " + a.ObjectID
	}
	if a.Location == nw.addr {
		if o := nw.localObject(a.ObjectID); o != nil {
			return exec.FutureValue(&exec.Future{Handle: o}), nil
		}
	}
	return exec.FutureValue(&exec.Future{Handle: nw.remoteObject(a.ObjectID, name, a.Location)}), nil
}

// remoteObject is a local stand-in, named name ("task 'boom'"), for an
// object held by another process; reading it fetches it.
func (nw *network) remoteObject(id, name, addr string) *objstore.Object {
	o := objstore.NewObject(id, name)
	o.SetRemote(addr, 0, nw.ow)
	o.Complete(exec.None, nil, addr)
	return o
}

// nativeTask finds a Go function registered as a task by name among this
// process's modules (Config.Modules), as the Universe would: the last
// global module that has it. Nil when there is none.
func (nw *network) nativeTask(name string) *exec.NativeTask {
	var found *exec.NativeTask
	for _, m := range nw.c.cfg.Modules {
		v, ok := m.Members[name]
		if !m.Global || !ok || v.Kind() != exec.FunctionKind {
			continue
		}
		if nt, ok := v.AsCallable().(*exec.NativeTask); ok {
			found = nt
		}
	}
	return found
}

// failForOwner fails a task sent by another process without running it:
// its owner gets err as the task's result. It returns the failed object.
func (nw *network) failForOwner(m *wire.Submit, err *exec.Error) *objstore.Object {
	o := objstore.NewObject(m.ID, "task '"+calleeName(m.Function)+"'")
	o.Complete(exec.None, err, nw.c.Head().ID)
	nw.report(o, m.Owner)
	return o
}

// taskForOwner makes the task of a message sent by another process,
// which reports its result to its owner when it is done; a task that
// cannot run here (a Go function this process lacks, a task the program
// does not have) is failed for its owner at once: then the task is nil
// and failed its object.
func (nw *network) taskForOwner(prog *exec.Program, m *wire.Submit, dones *doneList) (t *task, failed *objstore.Object) {
	ce := nw.groupCallee(prog, m.Function)
	if ce.err != nil {
		return nil, nw.failForOwner(m, ce.err)
	}
	t = nw.ownedTask(m.ID, ce, m.Owner, m.Output, m.ActorID, dones)
	t.replay = decodeReplay(m.Replay)
	return t, nil
}

// ownedTask makes the task id of callee ce that another process, owner,
// sent here (with where its prints go and the actor that bounds its
// cancelling), and has its result reported to owner when it is done:
// through dones when it is a call of a group (nil: alone).
func (nw *network) ownedTask(id string, ce *groupCallee, owner, output, bound string, dones *doneList) *task {
	t := &task{call: &exec.TaskCall{ID: id, Func: ce.fn, Native: ce.native}, obj: objstore.NewObject(id, ce.name),
		demand: ce.demand, output: output, owner: owner, bound: bound}
	t.obj.SetProducer(t)
	nw.c.stats.Submitted.Add(1)
	ce.counts.Submitted.Add(1)
	// The task's lineage is its owner's to record: it came in m.Lineage
	// (stash) or is in the GCS already (sync). Recording it again here
	// wrote it twice, and in sync mode waited for a second GCS write.
	if dones != nil {
		t.obj.OnReady(func() { dones.add(t.obj, &wire.Done{ID: id, RunNs: int64(t.ran)}) })
	} else {
		t.obj.OnReady(func() { nw.reportDone(t.obj, owner, &wire.Done{ID: id, RunNs: int64(t.ran)}) })
	}
	nw.c.stopIfCancelled(t) // cancelled here before it arrived: it never starts
	return t
}

// startForOwner queues a task sent by another process (nil: it failed)
// on this node once its arguments are ready.
func (nw *network) startForOwner(t *task, args []exec.Value) {
	if t == nil {
		return
	}
	t.call.Args = args
	n := nw.c.Head()
	whenArgsReady(args, func() {
		if !nw.c.stopIfCancelled(t) {
			n.enqueue(t)
		}
	})
}

// report sends a finished object's result to its owner: small values
// inline, large ones as a location to fetch from.
func (nw *network) report(o *objstore.Object, owner string) {
	nw.reportDone(o, owner, &wire.Done{ID: o.ID()})
}

// reportDone is report with the message's other fields set. Nothing is
// reported for a job that ended: its owner no longer waits (and may be
// gone: sending to a dead driver waits out the dial's backoff, which held
// up the release of its job by a head).
func (nw *network) reportDone(o *objstore.Object, owner string, done *wire.Done) {
	if nw.fillDone(o, done) {
		nw.sendDone(owner, done)
	}
}

// fillDone sets the result of a finished object in its Done message;
// false when there is nothing to report (its job ended).
func (nw *network) fillDone(o *objstore.Object, done *wire.Done) bool {
	if nw.c.marks.jobEnded(jobOf(o.ID())) {
		return false
	}
	if big := o.Big(); big != nil { // kept by the store (maybe spilled): its size is known
		nw.serveObject(o)
		done.Location, done.Size = nw.addr, big.Size()
		return true
	}
	v, err := o.Result()
	size := exec.EncodedSize(v)
	switch {
	case err != nil:
		done.Err = err
	case size <= InlineLimit:
		data, eerr := exec.EncodeWith(nil, v, nw)
		if eerr != nil {
			done.Err = exec.Errorf(exec.KindType, "the result of %s cannot be sent to its caller: %v", o.Name(), eerr)
		}
		done.Inline = data
	default:
		nw.serveObject(o)
		done.Location, done.Size = nw.addr, size
	}
	return true
}

// sendDone sends a TaskDone to the owner (itself, without the network).
func (nw *network) sendDone(owner string, done *wire.Done) {
	if owner == nw.addr {
		nw.ow.HandleDone(done.Encode())
		return
	}
	nw.pool.Send(owner, transport.TaskDone, done.Encode())
}

// handleCancel cancels the subtrees of the tasks a Cancel message names
// (cancel.go).
func (nw *network) handleCancel(payload []byte) error {
	roots, err := wire.DecodeStrings(payload)
	if err != nil || len(roots) == 0 {
		return wire.ErrMalformed
	}
	nw.c.cancelHere(roots)
	return nil
}

// cancelTree tells every other live process of the cluster to cancel the
// subtrees of roots, and waits (at most releaseTimeout) for their
// answers: once it returns, no task of them starts anywhere.
func (nw *network) cancelTree(roots []string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	msg := wire.EncodeStrings(roots...)
	var wg sync.WaitGroup
	for _, addr := range nw.liveAddrs(ctx) {
		if addr == nw.addr {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nw.pool.Call(ctx, addr, transport.Cancel, msg)
		}()
	}
	wg.Wait()
}
