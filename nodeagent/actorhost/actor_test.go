package actorhost

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
)

// result is a call's result, as the node agent's object would hold it.
type result struct {
	name  string
	done  chan struct{}
	mu    sync.Mutex
	val   exec.Value
	err   *exec.Error
	order uint64
	ready bool
	after []func()
}

func newResult(name string) *result { return &result{name: name, done: make(chan struct{})} }

func (r *result) Complete(v exec.Value, err *exec.Error, _ string) bool {
	r.mu.Lock()
	if r.ready {
		r.mu.Unlock()
		return false
	}
	r.ready, r.val, r.err = true, v, err
	after := r.after
	r.mu.Unlock()
	close(r.done)
	for _, f := range after {
		f()
	}
	return true
}

func (r *result) OnReady(f func()) {
	r.mu.Lock()
	if !r.ready {
		r.after = append(r.after, f)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	f()
}

func (r *result) Result() (exec.Value, *exec.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.val, r.err
}
func (r *result) Name() string        { return r.name }
func (r *result) SetOrder(seq uint64) { r.order = seq }

func (r *result) wait(t *testing.T) (exec.Value, *exec.Error) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never completed", r.name)
	}
	return r.Result()
}

// node records what the actor tells its node.
type node struct {
	mu       sync.Mutex
	accepted int
	order    []string
	last     uint64
	stopped  chan struct{}
	// gate, when set, holds each method call in ResolveArgs (after a
	// send on entered) until it is closed.
	gate, entered chan struct{}
	// threadsMade counts the threads callThread made (concurrent_test.go).
	threadsMade atomic.Int64
}

func (n *node) ID() string { return "n1" }
func (n *node) ResolveArgs(what string, args []exec.Value) ([]exec.Value, *exec.Error) {
	if n.gate != nil && !strings.HasPrefix(what, "actor ") { // a method call waits at the gate
		n.entered <- struct{}{}
		<-n.gate
	}
	return args, nil
}
func (n *node) Accepted(*exec.TaskCall) { n.mu.Lock(); n.accepted++; n.mu.Unlock() }
func (n *node) LogOrder(_ string, seq uint64, callID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.order) > 0 && seq != n.last+1 {
		panic(fmt.Sprintf("order %d logged after %d", seq, n.last))
	}
	n.last = seq
	n.order = append(n.order, callID)
}
func (n *node) MethodStarted()                                    {}
func (n *node) MethodDone(string, string, time.Time, *exec.Error) {}
func (n *node) DependencyFailed()                                 {}
func (n *node) Publish(r Result, v exec.Value, err *exec.Error)   { r.Complete(v, err, "n1") }
func (n *node) Stopped(*Actor)                                    { close(n.stopped) }
func (n *node) Crashed(r Result, p any) {
	r.Complete(exec.None, &exec.Error{Kind: exec.KindInternal, Msg: fmt.Sprint(p)}, "")
}

const counter = `
actor Counter(start: int = 0) {
    let count = start
    method inc(by: int = 1) -> int {
        count += by
        return count
    }
}
pipeline main() {}
`

func startCounter(t *testing.T, from *State) (*Actor, *node, *exec.Function) {
	t.Helper()
	return startCounterOn(t, from, &node{stopped: make(chan struct{})})
}

func startCounterOn(t *testing.T, from *State, n *node) (*Actor, *node, *exec.Function) {
	t.Helper()
	fp, err := frontend.Compile("counter.rayflow", counter, nil)
	if err != nil {
		t.Fatal(err)
	}
	th := &exec.Thread{Name: "test", Local: map[string]any{}}
	prog, err := fp.Load(th)
	if err != nil {
		t.Fatal(err)
	}
	class, _ := prog.ClassByName("Counter")
	inc, _ := class.Method("inc")
	a := New(Spec{ID: "a1", Class: class, Thread: &exec.Thread{Name: "Counter", Local: map[string]any{}}, Node: n, From: from})
	a.Start([]exec.Value{exec.Int(10)})
	return a, n, inc
}

func incCall(id string, inc *exec.Function, by int64) *exec.TaskCall {
	return &exec.TaskCall{ID: id, Func: inc, Args: []exec.Value{exec.Int(by)}}
}

// Calls run one at a time in mailbox order, each logged with its place;
// a repeated call from another process is answered from the first run.
func TestMailboxOrderAndDedup(t *testing.T) {
	a, n, inc := startCounter(t, nil)
	var rs []*result
	for i := range 5 {
		r := newResult(fmt.Sprintf("call %d", i))
		if !a.Enqueue(incCall(fmt.Sprintf("c%d", i), inc, 1), r, true) {
			t.Fatal("enqueue refused")
		}
		rs = append(rs, r)
	}
	again := newResult("again")
	a.Enqueue(incCall("c2", inc, 1), again, true)
	for i, r := range rs {
		v, err := r.wait(t)
		if err != nil || v.AsInt() != int64(11+i) || r.order != uint64(i+1) {
			t.Fatalf("call %d: %v %v order %d", i, v, err, r.order)
		}
	}
	if v, _ := again.wait(t); v.AsInt() != 13 {
		t.Fatalf("the repeated call ran again: %v", v)
	}
	if len(n.order) != 5 {
		t.Fatalf("logged %d calls, want 5 (the repeat is not run)", len(n.order))
	}
	// A checkpoint in mailbox order: the fields and the calls they reflect.
	ck := newResult("checkpoint")
	a.EnqueueCheckpoint("ck", ck)
	v, err := ck.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	parts := v.AsList().Elems
	if f := parts[0].AsList().Elems; f[len(f)-1].AsInt() != 15 || parts[1].AsInt() != 5 {
		t.Fatalf("checkpoint %v", v)
	}
	// Restarted from it, the actor goes on from its fields and its count.
	b, _, _ := startCounter(t, &State{Fields: parts[0].AsList().Elems, Order: 5})
	r := newResult("after restore")
	b.Enqueue(incCall("c9", inc, 2), r, false)
	if v, err := r.wait(t); err != nil || v.AsInt() != 17 || r.order != 6 {
		t.Fatalf("after restore: %v %v, order %d", v, err, r.order)
	}
}

// Stop fails what is queued, tells the node once, and refuses new calls.
func TestStopFailsQueuedCalls(t *testing.T) {
	a, n, inc := startCounterOn(t, nil, &node{stopped: make(chan struct{}),
		gate: make(chan struct{}), entered: make(chan struct{}, 1)})
	running, queued := newResult("running"), newResult("queued")
	a.Enqueue(incCall("c1", inc, 1), running, false)
	<-n.entered // c1 runs (held at the gate): c2 stays in the mailbox
	a.Enqueue(incCall("c2", inc, 1), queued, false)
	a.Stop("test over")
	if _, err := queued.wait(t); err == nil || err.Kind != exec.KindCancelled {
		t.Fatalf("the queued call after Stop: %v, want it cancelled", err)
	}
	close(n.gate)
	select {
	case <-n.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the node was not told the actor stopped")
	}
	if !a.Stopped() {
		t.Fatal("not stopped")
	}
	if a.Enqueue(incCall("late", inc, 1), newResult("late"), false) || a.EnqueueCheckpoint("ck", newResult("ck")) {
		t.Fatal("a stopped actor accepted a call")
	}
	a.Stop("again") // a second stop is a no-op (the node is told once)
}

// An orphaned actor runs what is queued, then stops.
func TestOrphanStopsWhenIdle(t *testing.T) {
	a, n, inc := startCounter(t, nil)
	r := newResult("last")
	a.Enqueue(incCall("c1", inc, 1), r, false)
	a.Orphan()
	if v, err := r.wait(t); err != nil || v.AsInt() != 11 {
		t.Fatalf("queued call before orphaning: %v %v", v, err)
	}
	select {
	case <-n.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("an orphaned, idle actor did not stop")
	}
}
