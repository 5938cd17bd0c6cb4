package nodeagent

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
)

// The calls of a group run back to back on one worker, and read the
// clock once each: a call starts when the call before it ended (its
// task event's start is that end, to the nanosecond), where a call alone
// reads it twice.
func TestGroupCallsReadTheClockOnce(t *testing.T) {
	c, err := NewCluster(Config{Nodes: 1, Timeline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	th := c.nodes[0].newThread("main", "job1")
	f := &exec.NativeTask{Builtin: exec.NewBuiltin("f", func(*exec.Thread, *exec.Args) (exec.Value, error) {
		return exec.None, nil
	})}
	const n = 8
	calls := make([]*exec.TaskCall, n)
	futs := make([]*exec.Future, n)
	for i := range calls {
		calls[i] = &exec.TaskCall{ID: th.NextCallID(), Native: f, Args: []exec.Value{exec.Int(int64(i))}}
		futs[i] = &exec.Future{}
	}
	if err := c.SubmitGroup(th, calls, futs); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(th, futs); err != nil {
		t.Fatal(err)
	}
	start, end := map[string]int64{}, map[string]int64{}
	if b := c.events.Take(); b != nil {
		for _, chunk := range b.Chunks {
			for _, e := range chunk {
				if e.State == taskevents.Finished {
					start[e.ID], end[e.ID] = e.Start, e.At
				}
			}
		}
	}
	for i, call := range calls {
		id := call.ID
		if _, ok := end[id]; !ok {
			t.Fatalf("no end recorded for %s", id)
		}
		if start[id] > end[id] {
			t.Errorf("%s started at %d, after its end %d", id, start[id], end[id])
		}
		if i > 0 && start[id] != end[calls[i-1].ID] {
			t.Errorf("%s started at %d, not when %s ended (%d)", id, start[id], calls[i-1].ID, end[calls[i-1].ID])
		}
	}
}
