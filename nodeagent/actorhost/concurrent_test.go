package actorhost

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
)

const napper = `
@concurrency(4)
actor Napper() {
    let active = 0
    let peak = 0
    let total = 0
    method nap(s) {
        active += 1
        peak = max(peak, active)
        time.sleep(s)
        active -= 1
        return peak
    }
    method add() {
        let v = total
        total = v + 1
        return total
    }
    method report() { return [peak, active, total] }
}
pipeline main() {}
`

// startNapper starts a concurrent actor whose calls run on threads of
// their own (Spec.NewThread), as the node agent starts one.
func startNapper(t *testing.T) (*Actor, *node, *exec.ActorClass) {
	t.Helper()
	return startNapperOn(t, &node{stopped: make(chan struct{})})
}

// startNapperOn is startNapper on node n.
func startNapperOn(t *testing.T, n *node) (*Actor, *node, *exec.ActorClass) {
	t.Helper()
	fp, err := frontend.Compile("napper.rayflow", napper, nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := fp.Load(&exec.Thread{Name: "test", Local: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	class, _ := prog.ClassByName("Napper")
	a := New(Spec{ID: "a1", Class: class, Thread: &exec.Thread{Name: "Napper", TaskID: "a1", Local: map[string]any{}},
		Node: n, NewThread: n.callThread})
	a.Start(nil)
	return a, n, class
}

// callThread is the test node's Spec.NewThread: it counts the threads it
// makes, and checks that a spare one is a returned call's, scrubbed.
func (n *node) callThread(id string, spare *exec.Thread) *exec.Thread {
	if spare != nil {
		if spare.Local["call"] == nil {
			panic("a spare thread that no call ran on")
		}
		spare.Reuse("Napper", id)
		return spare
	}
	n.threadsMade.Add(1)
	return &exec.Thread{Name: "Napper", TaskID: id, Local: map[string]any{"call": true}}
}

func callNapper(t *testing.T, a *Actor, class *exec.ActorClass, id, method string, args ...exec.Value) *result {
	t.Helper()
	m, ok := class.Method(method)
	if !ok {
		t.Fatalf("no method %s", method)
	}
	r := newResult(id)
	if !a.Enqueue(&exec.TaskCall{ID: id, Func: m, Args: args}, r, false) {
		t.Fatalf("%s refused", id)
	}
	return r
}

// Four calls that sleep are inside the actor at once (the count of
// calls between their start and their end reaches 4), while calls that
// do not wait never interleave: 100 read-then-write increments, made
// while the sleepers wait, all count (run it with -race too).
func TestConcurrentCallsOverlapAtWaitsOnly(t *testing.T) {
	a, _, class := startNapper(t)
	var naps []*result
	for i := range 4 {
		naps = append(naps, callNapper(t, a, class, fmt.Sprintf("nap%d", i), "nap", exec.Float(0.3)))
	}
	var adds []*result
	for i := range 100 {
		adds = append(adds, callNapper(t, a, class, fmt.Sprintf("add%d", i), "add"))
	}
	for _, r := range append(naps, adds...) {
		if _, err := r.wait(t); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	v, err := callNapper(t, a, class, "report", "report").wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != "[4, 0, 100]" {
		t.Fatalf("peak, active, total = %s, want [4, 0, 100]", got)
	}
}

// Kill cancels the calls of a concurrent actor that are running, not
// only the queued ones. (Three sleep, so that a fourth slot is left for
// the calls that watch them.)
func TestKillCancelsRunningConcurrentCalls(t *testing.T) {
	a, n, class := startNapper(t)
	var naps []*result
	for i := range 3 {
		naps = append(naps, callNapper(t, a, class, fmt.Sprintf("nap%d", i), "nap", exec.Float(60)))
	}
	waitActive(t, a, class, 3)
	a.Kill("actor Napper was killed")
	<-n.stopped
	for _, r := range naps {
		if _, err := r.wait(t); err == nil || err.Kind != exec.KindCancelled {
			t.Fatalf("%s: %v, want cancelled", r.name, err)
		}
	}
	if err := a.StoppedError(); err.Kind != exec.KindCancelled || err.Msg != "actor Napper was killed" {
		t.Fatalf("a call after the kill gets %v", err)
	}
}

// waitActive waits until want calls are inside the actor's nap.
func waitActive(t *testing.T, a *Actor, class *exec.ActorClass, want int64) {
	t.Helper()
	for i := 0; ; i++ {
		v, err := callNapper(t, a, class, fmt.Sprintf("report%d", i), "report").wait(t)
		if err != nil {
			t.Fatal(err)
		}
		if v.AsList().Elems[1].AsInt() == want {
			return
		}
		if i > 100000 {
			t.Fatalf("never %d calls at once", want)
		}
	}
}

// A concurrent actor's calls reuse the threads of its calls that have
// returned: 200 calls, at most 4 at once, run on at most 4 threads (one
// per slot), each call's ID its thread's task ID while it runs.
func TestConcurrentCallsReuseThreads(t *testing.T) {
	a, n, class := startNapper(t)
	var rs []*result
	for i := range 200 {
		method := "add"
		if i%10 == 0 {
			method = "nap" // some calls wait, so that several run at once
		}
		args := []exec.Value{}
		if method == "nap" {
			args = append(args, exec.Float(0.001))
		}
		rs = append(rs, callNapper(t, a, class, fmt.Sprintf("c%d", i), method, args...))
	}
	for _, r := range rs {
		if _, err := r.wait(t); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	v, err := callNapper(t, a, class, "report", "report").wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if total := v.AsList().Elems[2].AsInt(); total != 180 {
		t.Fatalf("total = %d, want 180", total)
	}
	if made := n.threadsMade.Load(); made > 4 {
		t.Fatalf("201 calls made %d threads, want at most 4 (one per slot)", made)
	}
}

// A call on a concurrent actor with a free slot and an empty mailbox is
// started by Enqueue itself, not handed to the actor's goroutine: calls
// made one after another, each once the last has returned, all are.
// Calls queued behind one the actor's goroutine holds are not (they keep
// mailbox order): a checkpoint in the mailbox goes first.
func TestIdleConcurrentActorStartsCallsAtEnqueue(t *testing.T) {
	a, _, class := startNapper(t)
	waitActive(t, a, class, 0) // built
	before := a.DirectStarts()
	for i := range 20 {
		if _, err := callNapper(t, a, class, fmt.Sprintf("add%d", i), "add").wait(t); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.DirectStarts() - before; got != 20 {
		t.Fatalf("%d of 20 calls on an idle actor started at Enqueue, want 20", got)
	}
	v, err := callNapper(t, a, class, "report", "report").wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if total := v.AsList().Elems[2].AsInt(); total != 20 {
		t.Fatalf("total = %d, want 20", total)
	}
}

// A call that returns while calls wait in the mailbox (every slot was
// taken) runs the first of them itself, keeping its slot and thread,
// instead of handing the slot back to the actor's goroutine: four calls
// held at the gate with their slots, 20 queued behind them, all 20 run
// by the four once the gate opens, in mailbox order.
func TestReturningCallsRunTheQueuedOnes(t *testing.T) {
	n := &node{stopped: make(chan struct{}), gate: make(chan struct{}), entered: make(chan struct{}, 64)}
	a, _, class := startNapperOn(t, n)
	var rs []*result
	for i := range 4 {
		rs = append(rs, callNapper(t, a, class, fmt.Sprintf("held%d", i), "add"))
	}
	for range 4 {
		<-n.entered // each holds a slot, at the gate
	}
	for i := range 20 {
		rs = append(rs, callNapper(t, a, class, fmt.Sprintf("queued%d", i), "add"))
	}
	close(n.gate)
	for _, r := range rs {
		if _, err := r.wait(t); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	if got := a.Continued(); got != 20 {
		t.Fatalf("%d of the 20 queued calls were run by returning calls, want 20", got)
	}
	if made := n.threadsMade.Load(); made > 4 {
		t.Fatalf("24 calls made %d threads, want at most 4", made)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var queued []string
	for _, id := range n.order {
		if strings.HasPrefix(id, "queued") {
			queued = append(queued, id)
		}
	}
	if len(queued) != 20 {
		t.Fatalf("order log holds %d queued calls, want 20", len(queued))
	}
}
