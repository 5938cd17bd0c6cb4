package nodeagent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
)

// reuseFirst makes large results (above InlineLimit, so the process that
// made them keeps them): of a deterministic task, of a nondeterministic
// one, and of a deterministic one that takes the result of either.
const reuseFirst = `
task part(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task noisy(i) { return nd.full([2000], 2.0 * i) }
task scale(p) { return nd.full([2000], nd.sum(p) / 1000) }
pipeline main() {
    let total = 0.0
    for p in get([part(0), part(1), part(2), part(3)]) { total += nd.sum(p) }
    for p in get([noisy(i) for i in range(2)]) { total += nd.sum(p) }
    total += nd.sum(get(scale(noisy(5))))
    total += nd.sum(get(scale(part(4))))
    return total
}`

// reuseSecond is reuseFirst with the fourth call's argument changed: the
// same task IDs, but that call is another call.
var reuseSecond = strings.Replace(reuseFirst, "part(3)]", "part(7)]", 1)

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
// instead of running them; a nondeterministic task, a call that takes its
// result and a call whose argument changed run again. A job with no record in the jobs table is
// released wholly.
func TestRerunReusesHeldResults(t *testing.T) {
	head, worker := releaseCluster(t)
	if err := head.Store.CreateAPIJob(gcs.APIJob{JobID: "rfjob_t", SubmissionID: "s", Status: "RUNNING", Supervisor: "h", Attempt: 1}).Error(); err != nil {
		t.Fatal(err)
	}
	// A job of the Jobs API: its driver keeps its results where they
	// were made (jobs_supervise.go), for a re-run.
	first, err := ConnectDriver([]string{head.Cluster.Address()}, Config{KeepResults: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Shutdown("test over") })
	if got := runJob(t, first, "rfjob_t", reuseFirst); got.Repr() != "72000.0" {
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
	partBefore, noisyBefore, scaleBefore := runsOf("part", head.Cluster, worker), runsOf("noisy", head.Cluster, worker), runsOf("scale", head.Cluster, worker)

	again, err := ConnectDriver([]string{head.Cluster.Address()}, Config{ReuseFrom: EarlierAttempts("rfjob_t", 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown("test over")
	got := runJob(t, again, AttemptJobID("rfjob_t", 2), reuseSecond)
	if got.Repr() != "80000.0" { // 2000 × (0+1+2+7 + 2×(0+1) + 20 + 8)
		t.Fatalf("the run again returned %s, want 80000.0", got.Repr())
	}
	// part 0, 1, 2 and 4, and scale of part 4.
	if n := again.ReusedResults(); n != 5 {
		t.Fatalf("the run again reused %d results, want 5", n)
	}
	// part 7, noisy each time, and scale of a noisy result.
	p, nz, sc := runsOf("part", head.Cluster, worker)-partBefore, runsOf("noisy", head.Cluster, worker)-noisyBefore, runsOf("scale", head.Cluster, worker)-scaleBefore
	if p != 1 || nz != 3 || sc != 1 {
		t.Fatalf("the run again ran part %d times, noisy %d times and scale %d times, want 1, 3 and 1", p, nz, sc)
	}
}
