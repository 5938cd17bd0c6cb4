package nodeagent

import (
	"context"
	"errors"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/rayflow/rayflow/stash"
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

// pendingIDs takes what c's recorder holds and lists the IDs of its
// pending events.
func pendingIDs(c *Cluster) []string {
	var ids []string
	if b := c.events.Take(); b != nil {
		for _, chunk := range b.Chunks {
			for _, e := range chunk {
				if e.State == taskevents.Pending {
					ids = append(ids, e.ID)
				}
			}
		}
	}
	return ids
}

// A group's calls are recorded pending at each report while they have
// not ended, with no event per call as they are submitted, and the group
// is forgotten with the end of its last call.
func TestGroupPendingAtEachReport(t *testing.T) {
	c := &Cluster{events: taskevents.NewRecorder(0), net: &network{}}
	tasks := make([]*task, 3)
	for i := range tasks {
		id := "job1." + string(rune('1'+i))
		tasks[i] = &task{call: &exec.TaskCall{ID: id}, obj: objstore.NewObject(id, "task 'f'")}
	}
	c.noteGroupSubmitted(tasks)
	if ids := pendingIDs(c); len(ids) != 0 {
		t.Fatalf("recorded at submission: %v, want nothing", ids)
	}
	c.snapshotTasks()
	if ids := pendingIDs(c); len(ids) != 3 {
		t.Fatalf("first report: pending %v, want the 3 calls", ids)
	}
	tasks[0].obj.Complete(exec.Int(1), nil, "")
	c.snapshotTasks()
	if ids := pendingIDs(c); len(ids) != 2 || ids[0] == "job1.1" || ids[1] == "job1.1" {
		t.Fatalf("second report: pending %v, want job1.2 and job1.3", ids)
	}
	tasks[1].obj.Complete(exec.Int(2), nil, "")
	tasks[2].obj.Complete(exec.Int(3), nil, "")
	c.snapshotTasks()
	if ids := pendingIDs(c); len(ids) != 0 || len(c.inFlight.set) != 0 {
		t.Fatalf("after the group's end: pending %v, %d groups in flight", ids, len(c.inFlight.set))
	}
}

// failingStore is a GCS whose writes all fail.
type failingStore struct{}

func (failingStore) PutTasks([]gcs.TaskRecord) stash.Waiter { return failedWrite{} }
func (failingStore) GetTask(string) (gcs.TaskRecord, error) {
	return gcs.TaskRecord{}, gcs.ErrNotFound
}

type failedWrite struct{}

func (failedWrite) Wait(context.Context) error { return errors.New("the GCS is unreachable") }

// A group whose lineage cannot be written (--lineage=sync) is not
// submitted: it is not kept among the groups in flight, whose calls each
// report would list pending for ever (they never start, so never end).
func TestGroupNotSubmittedNotInFlight(t *testing.T) {
	c, err := NewCluster(Config{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	c.events = taskevents.NewRecorder(0)
	c.net = &network{cfg: NetConfig{}} // networked, as far as the events go
	defer func() { c.net = nil }()     // the embedded cluster shuts down as one
	c.lineage = &lineage{mode: stash.ModeSync, store: failingStore{}}
	th := c.nodes[0].newThread("main", "job1")
	f := &exec.NativeTask{Builtin: exec.NewBuiltin("f", nil)}
	calls := []*exec.TaskCall{{ID: "job1.1", Native: f}, {ID: "job1.2", Native: f}}
	futs := []*exec.Future{{}, {}}
	if err := c.SubmitGroup(th, calls, futs); err == nil {
		t.Fatal("the group was submitted without its lineage")
	}
	c.snapshotTasks()
	if ids := pendingIDs(c); len(ids) != 0 || len(c.inFlight.set) != 0 {
		t.Fatalf("after a submission that failed: pending %v, %d groups in flight", ids, len(c.inFlight.set))
	}
}
