package actorhost

import (
	"fmt"
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
	fp, err := frontend.Compile("napper.rayflow", napper, nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := fp.Load(&exec.Thread{Name: "test", Local: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	class, _ := prog.ClassByName("Napper")
	n := &node{stopped: make(chan struct{})}
	newThread := func(id string) *exec.Thread { return &exec.Thread{Name: "Napper", TaskID: id, Local: map[string]any{}} }
	a := New(Spec{ID: "a1", Class: class, Thread: newThread("a1"), Node: n, NewThread: newThread})
	a.Start(nil)
	return a, n, class
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
