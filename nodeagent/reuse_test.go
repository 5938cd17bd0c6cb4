package nodeagent

import (
	"context"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// reuseFirst makes large results (above InlineLimit, so the process that
// made them keeps them): four of a deterministic task, two of a
// nondeterministic one.
const reuseFirst = `
task part(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task noisy(i) { return nd.full([2000], 2.0 * i) }
pipeline main() {
    let total = 0.0
    for p in get([part(0), part(1), part(2), part(3)]) { total += nd.sum(p) }
    for p in get([noisy(i) for i in range(2)]) { total += nd.sum(p) }
    return total
}`

// reuseSecond is reuseFirst with the fourth call's argument changed: the
// same task IDs, but that call is another call.
const reuseSecond = `
task part(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task noisy(i) { return nd.full([2000], 2.0 * i) }
pipeline main() {
    let total = 0.0
    for p in get([part(0), part(1), part(2), part(7)]) { total += nd.sum(p) }
    for p in get([noisy(i) for i in range(2)]) { total += nd.sum(p) }
    return total
}`

// runsOf counts the finished runs of fn on the processes.
func runsOf(fn string, cs ...*Cluster) int64 {
	var n int64
	for _, c := range cs {
		n += c.Head().taskCounts(fn).Finished.Load()
	}
	return n
}

// A job's driver that dies while its job of the Jobs API has not ended
// leaves its results on the nodes (the head releases its job keeping
// them), and a driver that runs the job again (Config.ReuseFrom) takes
// those of the same deterministic calls, with their lineage committed,
// instead of running them; a nondeterministic task and a call whose
// argument changed run again. A job with no record in the jobs table is
// released wholly.
func TestRerunReusesHeldResults(t *testing.T) {
	head, worker := releaseCluster(t)
	if err := head.Store.CreateAPIJob(gcs.APIJob{JobID: "rfjob_t", SubmissionID: "s", Status: "RUNNING", Supervisor: "h", Attempt: 1}).Error(); err != nil {
		t.Fatal(err)
	}
	first := connectDriver(t, head)
	if got := runJob(t, first, "rfjob_t", reuseFirst); got.Repr() != "16000.0" {
		t.Fatalf("the first run returned %s", got.Repr())
	}
	runJob(t, first, "plain", bigResults)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := first.FlushLineage(ctx); err != nil {
		t.Fatal(err)
	}
	// The driver's leases expire: the head releases both jobs.
	head.Cluster.net.releaseSilent([]string{"rfjob_t", "plain"})
	if s, _ := heldFor(worker, "plain"); s != 0 {
		t.Fatalf("the worker still serves %d results of a job with no record", s)
	}
	if s1, _ := heldFor(worker, "rfjob_t"); s1 == 0 {
		if s2, _ := heldFor(head.Cluster, "rfjob_t"); s2 == 0 {
			t.Fatalf("no process serves the results of the job to run again")
		}
	}
	partBefore, noisyBefore := runsOf("part", head.Cluster, worker), runsOf("noisy", head.Cluster, worker)

	again, err := ConnectDriver([]string{head.Cluster.Address()}, Config{ReuseFrom: EarlierAttempts("rfjob_t", 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown("test over")
	got := runJob(t, again, AttemptJobID("rfjob_t", 2), reuseSecond)
	if got.Repr() != "24000.0" { // 2000 × (0+1+2+7 + 2×(0+1))
		t.Fatalf("the run again returned %s, want 24000.0", got.Repr())
	}
	if n := again.ReusedResults(); n != 3 {
		t.Fatalf("the run again reused %d results, want 3", n)
	}
	if p, nz := runsOf("part", head.Cluster, worker)-partBefore, runsOf("noisy", head.Cluster, worker)-noisyBefore; p != 1 || nz != 2 {
		t.Fatalf("the run again ran part %d times and noisy %d times, want 1 and 2", p, nz)
	}
}
