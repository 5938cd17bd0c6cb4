package nodeagent

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// A group's calls are counted submitted as calls alone are: each by its
// callee, and all on the cluster's counts (the group looks a callee's
// demand and counters up once for a run of its calls).
func TestGroupCallsCountedSubmitted(t *testing.T) {
	c, err := NewCluster(Config{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	th := c.nodes[0].newThread("main", "job1")
	f := &exec.NativeTask{Builtin: exec.NewBuiltin("f", func(*exec.Thread, *exec.Args) (exec.Value, error) { return exec.None, nil })}
	g := &exec.NativeTask{Builtin: exec.NewBuiltin("g", func(*exec.Thread, *exec.Args) (exec.Value, error) { return exec.None, nil })}
	calls := []*exec.TaskCall{{ID: "job1.1", Native: f}, {ID: "job1.2", Native: f}, {ID: "job1.3", Native: g}, {ID: "job1.4", Native: f}}
	futs := []*exec.Future{{}, {}, {}, {}}
	before := c.stats.Submitted.Load()
	if err := c.SubmitGroup(th, calls, futs); err != nil {
		t.Fatal(err)
	}
	if n := c.stats.Submitted.Load() - before; n != 4 {
		t.Errorf("the cluster counted %d calls submitted, want 4", n)
	}
	for name, want := range map[string]int64{calls[0].Name(): 3, calls[2].Name(): 1} {
		if got := c.nodes[0].taskCounts(name).Submitted.Load(); got != want {
			t.Errorf("%s: %d calls counted submitted, want %d", name, got, want)
		}
	}
}
