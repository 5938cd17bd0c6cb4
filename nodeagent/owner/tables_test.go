package owner

import (
	"strconv"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// sentGroup is n tasks of caller "job1", numbered from first.
func sentGroup(first, n int) ([]*objstore.Object, []Task) {
	objs := make([]*objstore.Object, n)
	tasks := make([]Task, n)
	for i := range n {
		st := newSentTask("job1." + strconv.Itoa(first+i))
		objs[i], tasks[i] = st.obj, st
	}
	return objs, tasks
}

// A group's calls are awaited as one record and answered by their own
// IDs in any order; the record goes with the last answer, and each
// call's lineage goes with its value.
func TestGroupAnsweredByEachID(t *testing.T) {
	ow := New(newSentTasks())
	objs, tasks := sentGroup(5, 3)
	ow.SentGroup(tasks, "node:2")
	if g, a := ow.AwaitRecords(); g != 1 || a != 0 {
		t.Fatalf("records: %d groups, %d alone; want 1, 0", g, a)
	}
	for _, k := range []int{2, 0, 1} {
		id := objs[k].ID()
		if ow.Awaited(id) != objs[k] || !ow.hasLineage(id) {
			t.Fatalf("%s is not awaited, or its lineage not kept", id)
		}
		inline, _ := exec.Encode(nil, exec.Int(int64(k)))
		if err := ow.HandleDone((&wire.Done{ID: id, Inline: inline}).Encode()); err != nil {
			t.Fatal(err)
		}
		if v, err := objs[k].Result(); err != nil || v.AsInt() != int64(k) {
			t.Fatalf("%s: %v %v, want %d", id, v, err, k)
		}
		if ow.Awaited(id) != nil || ow.hasLineage(id) {
			t.Fatalf("%s is still awaited, or its lineage kept, after its answer", id)
		}
	}
	if len(ow.awaited.groups) != 0 || len(ow.lineage.groups) != 0 {
		t.Fatal("the group's records outlived its last answer")
	}
}

// Calls that are not one caller's consecutive calls are awaited alone.
func TestGroupNotConsecutiveAwaitedAlone(t *testing.T) {
	ow := New(newSentTasks())
	a, at := sentGroup(1, 1)
	b, bt := sentGroup(3, 1)
	ow.SentGroup([]Task{at[0], bt[0]}, "node:2")
	if g, n := ow.AwaitRecords(); g != 0 || n != 2 {
		t.Fatalf("records: %d groups, %d alone; want 0, 2", g, n)
	}
	if ow.Awaited("job1.1") != a[0] || ow.Awaited("job1.3") != b[0] {
		t.Fatal("a call awaited alone is not found")
	}
}

// When the node of a group dies, each of its calls not answered yet is
// run again alone, from the group's lineage.
func TestGroupNodeDiedRetriesEachCall(t *testing.T) {
	n := newSentTasks()
	ow := New(n)
	_, tasks := sentGroup(1, 3)
	ow.SentGroup(tasks, "node:2")
	inline, _ := exec.Encode(nil, exec.Int(1))
	if err := ow.HandleDone((&wire.Done{ID: "job1.1", Inline: inline}).Encode()); err != nil {
		t.Fatal(err)
	}
	ow.NodeDied("node:2")
	got := map[string]bool{}
	for range 2 {
		got[nextSpilled(t, n).Call().ID] = true
	}
	if !got["job1.2"] || !got["job1.3"] {
		t.Fatalf("placed again: %v, want job1.2 and job1.3", got)
	}
}

// Releasing a job takes its group's awaited results and drops their
// lineage.
func TestGroupReleasedWithItsJob(t *testing.T) {
	ow := New(newSentTasks())
	_, tasks := sentGroup(1, 4)
	ow.SentGroup(tasks, "node:2")
	got := ow.ReleaseJobs(func(id string) bool { return id[:4] == "job1" })
	if len(got) != 4 || ow.CountAwaited(func(string) bool { return true }) != 0 || ow.hasLineage("job1.2") {
		t.Fatalf("released %d results; still awaited %d", len(got), ow.CountAwaited(func(string) bool { return true }))
	}
}

// A group whose calls overlap a group awaited already is awaited call by
// call, so that no call has two records.
func TestGroupOverlappingAwaitedAlone(t *testing.T) {
	ow := New(newSentTasks())
	_, first := sentGroup(1, 3)
	_, again := sentGroup(3, 2)
	ow.SentGroup(first, "node:2")
	ow.SentGroup(again, "node:3")
	if g, a := ow.AwaitRecords(); g != 1 || a != 2 {
		t.Fatalf("records: %d groups, %d alone; want 1, 2", g, a)
	}
}

// Many groups of one caller in flight, sent out of order, are each found
// by their calls, and go with their last answers.
func TestManyGroupsOfOneCaller(t *testing.T) {
	ow := New(newSentTasks())
	order := []int{5, 0, 9, 3, 7, 1, 8, 2, 6, 4}
	objs := map[string]*objstore.Object{}
	for _, k := range order {
		o, tasks := sentGroup(1+10*k, 10)
		for _, x := range o {
			objs[x.ID()] = x
		}
		ow.SentGroup(tasks, "node:2")
	}
	if g, a := ow.AwaitRecords(); g != 10 || a != 0 {
		t.Fatalf("records: %d groups, %d alone; want 10, 0", g, a)
	}
	for n := 100; n >= 1; n-- {
		id := "job1." + strconv.Itoa(n)
		if ow.Awaited(id) != objs[id] || !ow.hasLineage(id) {
			t.Fatalf("%s is not found", id)
		}
		inline, _ := exec.Encode(nil, exec.Int(int64(n)))
		if err := ow.HandleDone((&wire.Done{ID: id, Inline: inline}).Encode()); err != nil {
			t.Fatal(err)
		}
		if v, err := objs[id].Result(); err != nil || v.AsInt() != int64(n) {
			t.Fatalf("%s: %v %v", id, v, err)
		}
	}
	if len(ow.awaited.groups) != 0 || len(ow.lineage.groups) != 0 {
		t.Fatal("records outlived their last answers")
	}
}

// pausedReplay is the stand-in transport, whose lineage store holds each
// retry that asks for it until the test lets it go on.
type pausedReplay struct {
	*sentTasks
	asked  chan struct{}
	resume chan struct{}
}

func (n *pausedReplay) LineageStore() stash.Store {
	n.asked <- struct{}{}
	<-n.resume
	return nil
}

// A retry of a group's call that was under way when its job was released
// places the task it read: the call's lineage, cleared in its group's
// record by the release, is not read again through its entry (it was
// read as a nil task, and the retry placed nothing, or panicked).
func TestGroupRetryOutlivesItsJobRelease(t *testing.T) {
	n := &pausedReplay{sentTasks: newSentTasks(), asked: make(chan struct{}), resume: make(chan struct{})}
	ow := New(n)
	_, tasks := sentGroup(1, 2)
	ow.SentGroup(tasks, "node:2")
	ow.NodeDied("node:2")
	for range 2 {
		select {
		case <-n.asked:
		case <-time.After(5 * time.Second):
			t.Fatal("the calls were not retried")
		}
	}
	ow.ReleaseJobs(func(id string) bool { return true })
	close(n.resume)
	got := map[string]bool{}
	for range 2 {
		st := nextSpilled(t, n.sentTasks)
		if st == nil {
			t.Fatal("a retry placed a nil task")
		}
		got[st.Call().ID] = true
	}
	if !got["job1.1"] || !got["job1.2"] {
		t.Fatalf("placed again: %v, want job1.1 and job1.2", got)
	}
}

// A group's result list names its first call and derives the rest (a
// message without an ID is the next call of the one before): each
// call's object is completed with its own value, and a result awaited
// alone after a group's is found by the derived ID too.
func TestDoneListDerivesConsecutiveIDs(t *testing.T) {
	ow := New(newSentTasks())
	objs, tasks := sentGroup(9, 3)
	ow.SentGroup(tasks, "node:2")
	lone, loneTasks := sentGroup(12, 1)
	ow.SentGroup(loneTasks, "node:2") // one call: awaited alone
	objs = append(objs, lone...)
	payload := []byte{byte(len(objs))}
	for k, o := range objs {
		inline, _ := exec.Encode(nil, exec.Int(int64(100+k)))
		m := &wire.Done{ID: o.ID(), Inline: inline}
		if k > 0 {
			m.ID = "" // derived: job1.10, job1.11, job1.12
		}
		msg := m.Encode()
		payload = append(append(payload, byte(len(msg))), msg...)
	}
	if err := ow.HandleDoneList(payload); err != nil {
		t.Fatal(err)
	}
	for k, o := range objs {
		if v, err := o.Result(); err != nil || v.AsInt() != int64(100+k) {
			t.Fatalf("%s: %v %v, want %d", o.ID(), v, err, 100+k)
		}
		if ow.Awaited(o.ID()) != nil || ow.hasLineage(o.ID()) {
			t.Fatalf("%s is still awaited, or its lineage kept, after its answer", o.ID())
		}
	}
	// A list that starts without an ID is malformed.
	bad := (&wire.Done{}).Encode()
	if err := ow.HandleDoneList(append([]byte{1, byte(len(bad))}, bad...)); err != wire.ErrMalformed {
		t.Fatalf("a list without a first ID: %v, want ErrMalformed", err)
	}
}

// forget returns the task whose lineage it dropped (the one look-up a
// remote result's run time is observed with), kept in a group's record
// or alone, and nil once dropped.
func TestForgetReturnsTheTask(t *testing.T) {
	ow := New(newSentTasks())
	_, tasks := sentGroup(3, 2)
	ow.SentGroup(tasks, "node:2")
	_, lone := sentGroup(9, 1)
	ow.SentGroup(lone, "node:2")
	for _, task := range append(tasks, lone...) {
		id := task.Call().ID
		if got := ow.forget(id); got != task {
			t.Fatalf("forget(%s) returned %v, want its task", id, got)
		}
		if got := ow.forget(id); got != nil {
			t.Fatalf("forget(%s) again returned %v, want nil", id, got)
		}
	}
}

// A group's calls forgotten one after the other are each found in the
// record found last, across records of one caller and of others, and a
// call forgotten already, or outside every record, is not.
func TestLineageForgottenFromTheLastRecord(t *testing.T) {
	ow := New(newSentTasks())
	var all []Task
	for _, first := range []int{1, 11, 21} {
		_, tasks := sentGroup(first, 10)
		ow.SentGroup(tasks, "node:2")
		all = append(all, tasks...)
	}
	other := newSentTask("job2.1")
	ow.SentGroup([]Task{other, newSentTask("job2.2")}, "node:2")
	for i, task := range all {
		id := task.Call().ID
		if got := ow.forget(id); got != task {
			t.Fatalf("forget(%s) returned %v, want its task", id, got)
		}
		if got := ow.forget(id); got != nil {
			t.Fatalf("forget(%s) again returned %v, want nil", id, got)
		}
		if i == 4 && ow.forget("job2.1") != other {
			t.Fatal("the other caller's call was not found")
		}
	}
	if ow.forget("job1.31") != nil || ow.forget("job1.0") != nil {
		t.Fatal("a call outside every record was found")
	}
	if len(ow.lineage.groups["job1"]) != 0 || ow.lineage.last != nil && ow.lineage.lastCaller == "job1" {
		t.Fatalf("job1's records outlived their calls: %d left", len(ow.lineage.groups["job1"]))
	}
}

// A result list is taken in passes (one lock a pass, not a result):
// when its first object completes, every result of the list is taken
// already (not awaited, its lineage forgotten) and is completed after it,
// in order; a malformed message ends the list, the results before it
// completed.
func TestDoneListTakenBeforeItsObjectsComplete(t *testing.T) {
	ow := New(newSentTasks())
	objs, tasks := sentGroup(20, 4)
	ow.SentGroup(tasks, "node:2")
	var seen []string
	objs[0].OnReady(func() {
		for _, o := range objs[1:3] { // objs[3]'s message is malformed
			if ow.Awaited(o.ID()) != nil || ow.hasLineage(o.ID()) || o.IsReady() {
				seen = append(seen, o.ID())
			}
		}
	})
	payload := []byte{byte(len(objs))}
	for k, o := range objs {
		inline, _ := exec.Encode(nil, exec.Int(int64(k)))
		m := &wire.Done{ID: o.ID(), Inline: inline}
		if k > 0 {
			m.ID = ""
		}
		msg := m.Encode()
		if k == 3 {
			msg = msg[:1] // malformed: cut short
		}
		payload = append(append(payload, byte(len(msg))), msg...)
	}
	if err := ow.HandleDoneList(payload); err == nil {
		t.Fatal("a list with a malformed message: no error")
	}
	if len(seen) != 0 {
		t.Fatalf("as the list's first object completed, %v were awaited, kept their lineage or were ready", seen)
	}
	for k, o := range objs[:3] {
		if v, err := o.Result(); err != nil || v.AsInt() != int64(k) {
			t.Fatalf("%s: %v %v, want %d", o.ID(), v, err, k)
		}
	}
	if objs[3].IsReady() || ow.Awaited(objs[3].ID()) == nil {
		t.Fatalf("%s, after the malformed message, was taken", objs[3].ID())
	}
}
