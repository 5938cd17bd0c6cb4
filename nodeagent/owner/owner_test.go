package owner

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// These tests drive an Owner's bookkeeping on its own, with a stand-in
// for the transport side that records what the owner asks of it (the
// networked paths are tested in package nodeagent, over real
// connections). Calling a Network method the stand-in does not define
// panics: the owner asked for something the test did not expect.

// sentTasks stands in for the transport side: it records the tasks the
// owner places, and has no node to fetch from.
type sentTasks struct {
	Network // nil: any method not defined below panics
	spilled chan Task
}

func newSentTasks() *sentTasks { return &sentTasks{spilled: make(chan Task, 4)} }

func (n *sentTasks) Addr() string              { return "self:1" }
func (n *sentTasks) KeepsLineage() bool        { return true }
func (n *sentTasks) LineageStore() stash.Store { return nil }
func (n *sentTasks) Spill(t Task)              { n.spilled <- t }
func (n *sentTasks) IsDead(string) bool        { return true }
func (n *sentTasks) Fetch(id, addr string) (exec.Value, *exec.Error) {
	return exec.None, &exec.Error{Kind: exec.KindLost, Msg: "object " + id + " was held by the node at " + addr + ", which died"}
}

// sentTask is a task as its owner keeps it.
type sentTask struct {
	call   *exec.TaskCall
	obj    *objstore.Object
	replay map[uint64]stash.Outcome
}

func newSentTask(id string) *sentTask {
	return &sentTask{call: &exec.TaskCall{ID: id}, obj: objstore.NewObject(id, "task 'f'")}
}

func (t *sentTask) Call() *exec.TaskCall                 { return t.call }
func (t *sentTask) Object() *objstore.Object             { return t.obj }
func (t *sentTask) SetReplay(r map[uint64]stash.Outcome) { t.replay = r }
func (t *sentTask) Again() Task {
	return &sentTask{call: t.call, obj: objstore.NewObject(t.obj.ID(), t.obj.Name())}
}

func nextSpilled(t *testing.T, n *sentTasks) Task {
	t.Helper()
	select {
	case st := <-n.spilled:
		return st
	case <-time.After(5 * time.Second):
		t.Fatal("the task was not placed again")
		return nil
	}
}

// An answer completes the awaited result and ends the wait; the lineage
// is dropped once the value is here; a second answer is ignored.
func TestAnswerCompletesAwaitedResult(t *testing.T) {
	ow := New(newSentTasks())
	st := newSentTask("job1.1")
	ow.Remember(st)
	ow.Await(st.obj, "node:2")
	inline, err := exec.Encode(nil, exec.Int(7))
	if err != nil {
		t.Fatal(err)
	}
	if err := ow.HandleDone((&wire.Done{ID: "job1.1", Inline: inline}).Encode()); err != nil {
		t.Fatal(err)
	}
	if v, rerr := st.obj.Result(); rerr != nil || v.AsInt() != 7 {
		t.Fatalf("result %v %v, want 7", v, rerr)
	}
	if ow.Awaited("job1.1") != nil || ow.hasLineage("job1.1") {
		t.Fatal("the answered result is still awaited, or its lineage still kept")
	}
	if err := ow.HandleDone((&wire.Done{ID: "job1.1", Err: &exec.Error{Kind: exec.KindLost, Msg: "late"}}).Encode()); err != nil {
		t.Fatal(err)
	}
	if _, rerr := st.obj.Result(); rerr != nil {
		t.Fatalf("a second answer changed the result: %v", rerr)
	}
}

// A task its node gave back unrun is placed again, the same task.
func TestGivenBackTaskIsPlacedAgain(t *testing.T) {
	n := newSentTasks()
	ow := New(n)
	st := newSentTask("job1.2")
	ow.Remember(st)
	ow.Await(st.obj, "node:2")
	if err := ow.HandleDone((&wire.Done{ID: "job1.2", Resubmit: true}).Encode()); err != nil {
		t.Fatal(err)
	}
	if got := nextSpilled(t, n); got != Task(st) {
		t.Fatalf("placed %v, want the task given back", got)
	}
}

// A value lost with its node is rebuilt: its task runs again (a copy with
// a new object of the same ID), and the reader gets the new value.
func TestLostValueIsRebuiltFromLineage(t *testing.T) {
	n := newSentTasks()
	ow := New(n)
	st := newSentTask("job1.3")
	ow.Remember(st)
	st.obj.SetRemote("node:2", 0, ow)
	st.obj.Complete(exec.None, nil, "node:2")
	type result struct {
		v   exec.Value
		err *exec.Error
	}
	read := make(chan result, 1)
	go func() {
		v, err := st.obj.Result()
		read <- result{v, err}
	}()
	again := nextSpilled(t, n)
	if again == Task(st) || again.Object().ID() != "job1.3" {
		t.Fatalf("placed %v, want a copy of the task with a new object", again)
	}
	again.Object().Complete(exec.Int(9), nil, "node:3")
	select {
	case r := <-read:
		if r.err != nil || r.v.AsInt() != 9 {
			t.Fatalf("rebuilt value %v %v, want 9", r.v, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not get the rebuilt value")
	}
}

// Releasing a job returns its awaited results (its caller fails them)
// and drops its lineage and its lends; other jobs keep theirs.
func TestReleaseJobsDropsOnlyThatJob(t *testing.T) {
	ow := New(newSentTasks())
	over, other := newSentTask("jobA.1"), newSentTask("jobB.1")
	for _, st := range []*sentTask{over, other} {
		ow.Remember(st)
		ow.Await(st.obj, "node:2")
		ow.Lend(st.obj)
	}
	got := ow.ReleaseJobs(func(id string) bool { return id == "jobA.1" })
	if len(got) != 1 || got[0] != over.obj {
		t.Fatalf("released %v, want jobA's result", got)
	}
	if ow.hasLineage("jobA.1") || !ow.hasLineage("jobB.1") || ow.Awaited("jobB.1") != other.obj {
		t.Fatal("release dropped the wrong job's state")
	}
	if n := ow.Lent(); n != 1 {
		t.Fatalf("%d objects still lent, want jobB's alone", n)
	}
}
