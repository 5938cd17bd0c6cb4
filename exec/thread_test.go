package exec

import "testing"

// A reused thread starts again: not cancelled, its call IDs numbered
// from its new task's, no frames left from an error that unwound; what
// the host set stays.
func TestThreadReuseStartsAgain(t *testing.T) {
	th := &Thread{Name: "a", TaskID: "j.1", NodeID: "n1", MaxSteps: 10, Local: map[string]any{"k": 1}}
	th.NextCallID()
	th.Cancel("stop")
	th.pushFrame(&Frame{Name: "f"})
	th.steps = 7
	th.Reuse("b", "j.2")
	if _, cancelled := th.Cancelled(); cancelled {
		t.Fatal("a reused thread is still cancelled")
	}
	select {
	case <-th.Done():
		t.Fatal("a reused thread's Done channel is closed")
	default:
	}
	if id := th.NextCallID(); id != "j.2.1" {
		t.Errorf("the first call of the reused thread has ID %s, want j.2.1", id)
	}
	if len(th.frames) != 0 || th.steps != 0 || th.Name != "b" {
		t.Errorf("frames %d, steps %d, name %q after Reuse", len(th.frames), th.steps, th.Name)
	}
	if th.NodeID != "n1" || th.MaxSteps != 10 || th.Local["k"] != 1 {
		t.Error("Reuse changed what the host set")
	}
}
