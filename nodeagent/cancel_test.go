package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A mark covers its task and every task below it, down to the nearest
// actor among their callers; a job's mark covers all of the job.
func TestCancelMarksCoverTheSubtree(t *testing.T) {
	var m cancelMarks
	if m.covers("job1.2", "") {
		t.Fatal("no mark covers anything")
	}
	m.add("job1.2")
	for _, c := range []struct {
		id, bound string
		want      bool
	}{
		{"job1.2", "", true},
		{"job1.2.5", "", true},
		{"job1.2.5.1", "", true},
		{"job1.20", "", false}, // a sibling whose ID starts alike
		{"job1.3", "", false},
		{"job1", "", false},
		{"job1.2.4.7", "job1.2.4", false}, // submitted by actor job1.2.4's methods
		{"job1.2.4.7.1", "job1.2.4", false},
		{"job2.2", "", false},
	} {
		if got := m.covers(c.id, c.bound); got != c.want {
			t.Errorf("covers(%q, bound %q) = %v, want %v", c.id, c.bound, got, c.want)
		}
	}
	m.add("job1.2.4.7")
	if !m.covers("job1.2.4.7.3", "job1.2.4") {
		t.Error("a task cancelled below an actor does not cover its own subtree")
	}
	m.endJob("job3")
	if !m.covers("job3.1.4.1", "job3.1.4") || !m.jobEnded("job3") || m.jobEnded("job1") {
		t.Error("an ended job's mark must cover all of the job, actors' tasks included")
	}
	m.add("job4") // a driver's subtree (CancelJob): its actors live on
	if !m.covers("job4.1", "") || m.covers("job4.2.1", "job4.2") || m.jobEnded("job4") {
		t.Error("a job's subtree mark must stop at actors and not end the job")
	}
	m.forgetJobs(func(id string) bool { return jobOf(id) == "job1" && id != "job1" })
	if m.covers("job1.2.5", "") || !m.jobEnded("job3") {
		t.Error("forgetJobs must drop the job's task marks and keep other jobs' marks")
	}
	m.forgetJobs(func(id string) bool { return jobOf(id) == "job4" })
	m.prune(time.Now())
	if !m.jobEnded("job3") {
		t.Error("prune dropped the mark of a job that just ended")
	}
	m.prune(time.Now().Add(jobMarkTTL + time.Second))
	if m.jobEnded("job3") || m.some.Load() {
		t.Error("prune must drop the marks of jobs ended jobMarkTTL ago, and then no check takes the lock")
	}
}

// cancelTreeSource: a parent starts a long child and an actor, hands the
// actor to the driver through a latch, and is cancelled. The child stops;
// the actor lives on and its methods' tasks run.
const cancelTreeSource = `
actor Latch() {
    let kept = []
    method keep(h) { kept = [h] }
    method ready() { return len(kept) > 0 }
    method helper() { return kept[0] }
}
actor Helper() {
    method work() { return get(leaf()) }
}
task leaf() { return 5 }
task child() {
    time.sleep(60)
    return 1
}
task parent(latch) {
    let c = child()
    get(latch.keep(Helper()))
    return get(c)
}
pipeline main() {
    let latch = Latch()
    let p = parent(latch)
    while not get(latch.ready()) { time.sleep(0.01) }
    cancel(p)
    let failed = ""
    try { get(p) } catch e { failed = e.kind }
    return [failed, get(get(latch.helper()).work())]
}`

// checkCancelTree runs cancelTreeSource on driver and waits until no
// node of cs runs or queues a task: the child, which sleeps a minute,
// was cancelled.
func checkCancelTree(t *testing.T, driver *Cluster, job string, cs ...*Cluster) {
	t.Helper()
	v := runJob(t, driver, job, cancelTreeSource)
	if got := v.String(); got != `["cancelled", 5]` {
		t.Fatalf("returned %s, want the parent cancelled and the actor's task run", got)
	}
	testutil.Eventually(t, 10*time.Second, "the cancelled parent's child stopped", func() bool {
		for _, c := range cs {
			for _, n := range c.nodes {
				if _, queued, running := n.sched.State(); queued+running > 0 {
					return false
				}
			}
		}
		return true
	})
}

func TestCancelStopsTheSubtreeEmbedded(t *testing.T) {
	c, err := NewCluster(Config{Nodes: 3, CPUs: 2, Lineage: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown("test over") })
	checkCancelTree(t, c, "jobc", c)
}

func TestCancelStopsTheSubtreeInACluster(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	checkCancelTree(t, driver, "jobk", head.Cluster, worker)
}

// A task of a subtree cancelled before it arrives never starts: the
// mark reached the node first.
func TestTaskArrivingInACancelledSubtreeNeverStarts(t *testing.T) {
	c, err := NewCluster(Config{CPUs: 1, Lineage: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown("test over") })
	c.cancelHere([]string{"jobz.3"})
	th := c.NewThread("jobz")
	th.TaskID = "jobz.3" // as if the thread ran task jobz.3
	never := &exec.NativeTask{Builtin: exec.NewBuiltin("never", func(*exec.Thread, *exec.Args) (exec.Value, error) {
		t.Error("a task of a cancelled subtree ran")
		return exec.None, nil
	})}
	fut, err := c.Submit(th, &exec.TaskCall{ID: "jobz.3.1", Native: never})
	if err != nil {
		t.Fatal(err)
	}
	o := objstore.ObjectOf(fut)
	select {
	case <-o.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the task of a cancelled subtree never completed")
	}
	if _, rerr := o.Result(); rerr == nil || rerr.Kind != exec.KindCancelled {
		t.Fatalf("result: %v, want kind cancelled", rerr)
	}
}

// A head ends a job whose driver stopped renewing its lease: every node
// drops what it keeps for the job (here, a result it awaits).
func TestHeadEndsAJobWhoseLeaseExpired(t *testing.T) {
	head, worker := releaseClusterDeadAfter(t, 1500*time.Millisecond)
	awaited, other := objstore.NewObject("jobl.2.1", "task 'f'"), objstore.NewObject("jobm.1", "task 'g'")
	worker.net.ow.Await(awaited, head.Cluster.Address())
	worker.net.ow.Await(other, head.Cluster.Address())
	// A driver renewed jobl's lease once, then died.
	if _, err := head.Cluster.net.handleJobAlive(wire.EncodeStrings("jobl")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-awaited.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the job of a silent driver was never ended")
	}
	if _, rerr := awaited.Result(); rerr == nil || rerr.Kind != exec.KindCancelled {
		t.Fatalf("awaited result of the ended job: %v, want a cancellation", rerr)
	}
	if other.IsReady() {
		t.Fatal("a job with no lease at the head was ended")
	}
	// The driver was only cut off: the head tells it that its job ended.
	if ended, err := head.Cluster.net.handleJobAlive(wire.EncodeStrings("jobl", "jobm")); err != nil || len(ended) != 1 || ended[0] != "jobl" {
		t.Fatalf("a renewal of an ended job answered %v, %v; want [jobl]", ended, err)
	}
}

// A driver whose job a head ended (it was cut off from the head for the
// dead timeout) learns so at its next renewal and ends the job too:
// whoever waits for the job's results gets an error instead of waiting
// for ever.
func TestDriverLearnsItsJobWasEnded(t *testing.T) {
	head, _ := releaseCluster(t)
	driver := connectDriver(t, head)
	driver.NewThread("jobq")
	awaited := objstore.NewObject("jobq.1", "task 'f'")
	driver.net.ow.Await(awaited, head.Cluster.Address())
	head.Cluster.net.releaseHere([]string{"jobq"}) // as the head does when the lease expires
	select {
	case <-awaited.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the driver still waits for a result of a job the head ended")
	}
	if _, rerr := awaited.Result(); rerr == nil || rerr.Kind != exec.KindCancelled {
		t.Fatalf("awaited result: %v, want a cancellation", rerr)
	}
}
