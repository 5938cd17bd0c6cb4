package exec

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime runs what leaves the evaluator: task calls, actors, and the
// futures functions. The node agent implements it; exec defines it
// because exec is its consumer. Every method may block only where its
// doc says so; a blocking Get or Wait must give the caller's CPU slot
// back while it waits.
type Runtime interface {
	// Submit starts a task call and returns its future at once.
	Submit(th *Thread, call *TaskCall) (*Future, error)
	// NewActor creates an actor and returns its handle.
	NewActor(th *Thread, call *TaskCall) (*ActorHandle, error)
	// CallMethod queues a method call on an actor and returns its future.
	CallMethod(th *Thread, actor *ActorHandle, call *TaskCall) (*Future, error)
	// Get waits for every future and returns their values in order.
	Get(th *Thread, fs []*Future) ([]Value, error)
	// Wait returns the indexes of the futures that are ready, as soon as
	// num of them are or the timeout (negative: none) passes.
	Wait(th *Thread, fs []*Future, num int, timeout time.Duration) ([]int, error)
	// Put stores a value and returns a future for it.
	Put(th *Thread, v Value) (*Future, error)
	// Cancel cancels the task behind a future if it has not finished.
	Cancel(th *Thread, f *Future) error
	// Nodes lists the IDs of the alive nodes.
	Nodes() []string
}

// OutcomeLogger is implemented by a Runtime that logs the results of
// nondeterministic reads (the clock, files, the seed of unseeded
// randomness) so that a task run again reads the same values.
type OutcomeLogger interface {
	// ReadOutcome returns what read returns, logged under kind; in a
	// task run again, the value its earlier run logged at this step.
	ReadOutcome(th *Thread, kind string, read func() (Value, error)) (Value, error)
}

// ReadOutcome performs a nondeterministic read through the thread's
// runtime when it logs them (OutcomeLogger), or directly.
func ReadOutcome(th *Thread, kind string, read func() (Value, error)) (Value, error) {
	if l, ok := th.Runtime.(OutcomeLogger); ok {
		return l.ReadOutcome(th, kind, read)
	}
	return read()
}

// TaskCall is one call of a task, an actor constructor or a method: the
// callee, its arguments (futures given directly are dependencies), and
// the deterministic ID of the call.
type TaskCall struct {
	ID    string
	Func  *Function // the task, or the method; nil for actor creation
	Class *ActorClass
	// Native is set instead of Func for a Go function registered as a
	// task by an embedding program.
	Native *NativeTask
	Args   []Value
	Site   *CallSite // where in the source the call was made, with its lineage annotation
	// Slot, for a call at a template site (decision.Site.Template), is
	// which call of its site it is in the current iteration of its
	// template loop, from 1; 0 for other calls. The runtime places the
	// call where the same site and slot went before.
	Slot int
	// Near asks the runtime to place the call next to its largest
	// argument, as @hint(locality) does for a site: the calls of a
	// reduction run as a tree (reduce.go) are.
	Near bool
}

// OneGetter is a Runtime that also gets a single future, as Get does
// with one, without the slices Get takes and returns: get(f) with no
// timeout calls it when the runtime has it.
type OneGetter interface {
	GetOne(th *Thread, f *Future) (Value, error)
}

// Thread is the state of one flow of evaluation: the driver of a
// pipeline, one task run, or one actor's method loop. The host fills the
// exported fields before use. A Thread is used by one goroutine at a
// time; Cancel may be called from any goroutine.
type Thread struct {
	Name    string  // for messages
	TaskID  string  // the ID of the running task; child IDs derive from it
	NodeID  string  // the node this thread runs on
	Runtime Runtime // where task and actor calls go
	// Print writes program output: what one print call printed,
	// including its line end.
	Print func(th *Thread, line string)
	// MaxSteps, when positive, stops the thread with a "step_limit"
	// error after that many loop iterations and calls.
	MaxSteps int64
	// WorkDir confines the io module; empty means the process's working
	// directory.
	WorkDir string
	// Local is for the host's own per-thread data (its standard library
	// included: stdlib keeps a thread's random generator there).
	Local map[string]any
	// Yield, when set, runs each blocking wait of the thread (get, wait,
	// time.sleep; see Blocking): a call of a concurrent actor gives the
	// actor up while it waits and takes it back before going on.
	Yield func(wait func())

	seq uint64
	// planned is what the plan's decisions keep on this thread (calls
	// waiting in a group, loops run ahead); nil until a decision needs it,
	// so that threads of unplanned programs stay small.
	planned   *threadPlan
	steps     int64
	cancelled atomic.Pointer[stopCause]
	doneMu    sync.Mutex
	done      chan struct{} // closed by Cancel; made on first use
	// frames are the call sites of the rayflow functions now running,
	// outermost first. They are not popped while an error unwinds, so the
	// place that recovers the error can read the whole stack.
	frames []*Frame // call sites, made once at compile time
	// vals is a stack of frame slots for inline fn calls, and fpool the
	// frame records by depth, so a call of a plain fn does not allocate.
	vals  []Value
	fpool []*frame
}

// maxCallDepth bounds recursion so that a runaway program gets an error,
// not a Go stack overflow.
const maxCallDepth = 10000

// StartCallsAt makes the thread number its next calls from n+1: a task's
// later attempt uses its own range of call IDs.
func (th *Thread) StartCallsAt(n uint64) { th.seq = n }

// NextCallID returns the deterministic ID of the next task call made by
// this thread: the thread's task ID and a call sequence number.
func (th *Thread) NextCallID() string {
	th.seq++
	// Built in one buffer on the stack and copied out once: one
	// allocation per call, not the number's and then the join's.
	var buf [96]byte
	b := append(buf[:0], th.TaskID...)
	b = append(b, '.')
	b = strconv.AppendUint(b, th.seq, 10)
	return string(b)
}

// stopCause is why a thread was asked to stop: the error kind it stops
// with and its message.
type stopCause struct{ kind, msg string }

// Cancel asks the thread to stop at its next check (a loop back-edge or a
// call) with a "cancelled" error carrying reason.
func (th *Thread) Cancel(reason string) { th.Stop(KindCancelled, reason) }

// Stop asks the thread to stop at its next check with an error of kind
// (KindMemory: the node ran out of memory) carrying msg. The first
// Cancel or Stop wins.
func (th *Thread) Stop(kind, msg string) {
	if th.cancelled.CompareAndSwap(nil, &stopCause{kind: kind, msg: msg}) {
		th.doneMu.Lock()
		if th.done == nil {
			th.done = make(chan struct{})
		}
		close(th.done)
		th.doneMu.Unlock()
	}
}

// Done returns a channel that is closed when the thread is cancelled,
// for code that blocks on the thread's behalf.
func (th *Thread) Done() <-chan struct{} {
	th.doneMu.Lock()
	defer th.doneMu.Unlock()
	if th.done == nil {
		th.done = make(chan struct{})
		if th.cancelled.Load() != nil {
			close(th.done)
		}
	}
	return th.done
}

// Cancelled reports whether Cancel was called, and why.
func (th *Thread) Cancelled() (string, bool) {
	r := th.cancelled.Load()
	if r == nil {
		return "", false
	}
	return r.msg, true
}

// StopError is the error a cancelled or stopped thread stops with
// (kind cancelled, or the kind Stop gave), nil while it may go on: for
// code that blocks on the thread's behalf and sees Done closed.
func (th *Thread) StopError() *Error {
	if r := th.cancelled.Load(); r != nil {
		return Errorf(r.kind, "%s", r.msg)
	}
	return nil
}

// check is called on loop back-edges and calls; it returns the error
// that must stop the thread, if any, for the caller to raise at its
// position. It is small enough to be inlined: a thread that is not
// cancelled and has no step limit costs one load and one compare.
func (th *Thread) check() *Error {
	if th.cancelled.Load() == nil && th.MaxSteps <= 0 { // unchecked, spelled out to stay within Go's inlining budget
		return nil
	}
	return th.checkSlow()
}

// unchecked reports whether check has nothing to do: the thread is not
// cancelled and has no step limit. A caller that skips check must make
// sure of this first.
func (th *Thread) unchecked() bool {
	return th.cancelled.Load() == nil && th.MaxSteps <= 0
}

// checkSlow is check for a cancelled thread or one with a step limit.
func (th *Thread) checkSlow() *Error {
	if r := th.cancelled.Load(); r != nil {
		return Errorf(r.kind, "%s", r.msg)
	}
	if th.MaxSteps > 0 {
		th.steps++
		if th.steps > th.MaxSteps {
			return Errorf(KindStepLimit, "step limit of %d exceeded", th.MaxSteps)
		}
	}
	return nil
}

// Scrub drops every value the thread's runs left in its value stack and
// pooled frames, for a host that keeps the thread for later runs
// (Reuse): nothing a finished run held stays reachable from a kept
// thread (the object store frees a result when its last reference is
// collected).
func (th *Thread) Scrub() {
	clear(th.vals[:cap(th.vals)])
	for _, fr := range th.fpool {
		clear(fr.own)
		fr.slots, fr.fields, fr.ret = nil, nil, None
	}
}

// Reuse makes th ready for another run on the same host, one that
// starts after th's last run has returned: Name and TaskID become name
// and taskID, the evaluator's own state (call numbering, steps,
// cancellation, the plan's groups and loops, the frames) starts again,
// and the other exported fields stay as the host set them. Its value
// stacks are kept, so that a host that runs many short bodies one after
// another (the calls of a group) does not make a thread for each. The
// caller must know that nothing uses th any more: Cancel on it no longer
// reaches its last run.
func (th *Thread) Reuse(name, taskID string) {
	th.Name, th.TaskID = name, taskID
	th.seq, th.steps, th.planned = 0, 0, nil
	th.cancelled.Store(nil)
	th.doneMu.Lock()
	th.done = nil
	th.doneMu.Unlock()
	th.frames = th.frames[:0]
	th.vals = th.vals[:0]
}
