package nodeagent

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// whenEachReady calls its function once per call of a group: at the end
// of the last call for those done by then, and at its own end for a call
// that ends after the last (one run again), and no sooner: a call's end
// waits for the last call's.
func TestWhenEachReadyOncePerCall(t *testing.T) {
	tasks := make([]*task, 3)
	for i := range tasks {
		tasks[i] = &task{obj: objstore.NewObject("job1."+string(rune('1'+i)), "task 'f'")}
	}
	seen := map[*objstore.Object]int{}
	whenEachReady(tasks, func(o *objstore.Object) { seen[o]++ })
	tasks[0].obj.Complete(exec.Int(1), nil, "")
	if len(seen) != 0 {
		t.Fatal("a call's end was counted before the group's last call ended")
	}
	tasks[2].obj.Complete(exec.Int(3), nil, "")
	if seen[tasks[0].obj] != 1 || seen[tasks[2].obj] != 1 || seen[tasks[1].obj] != 0 {
		t.Fatalf("after the last call: %v", seen)
	}
	tasks[1].obj.Complete(exec.Int(2), nil, "")
	for i, x := range tasks {
		if seen[x.obj] != 1 {
			t.Errorf("call %d counted %d times, want once", i+1, seen[x.obj])
		}
	}
}
