package nodeagent

import (
	"runtime"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// lentResult passes a large result to another task, then fetches it
// (total is nondeterministic, so that the two calls are not fused into
// one unit: a group's own results stay with it).
const lentResult = `
task big(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task total(p) { return nd.sum(p) }
pipeline main() {
    let r = big(1)
    let s = get(total(r))
    return s + nd.sum(get(r))
}`

// A large result passed as an argument to a task and fetched by its
// owner is freed on its holder once both are done with it, while the job
// goes on (issue 15: borrowers): the task's process gives its lend back
// when the runtime collects the future it decoded. Before, a future that
// left its owner kept its result until the job ended.
func TestLentResultIsFreedWhenBothAreDone(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "lent", lentResult); got.Repr() != "4000.0" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the lent result released by its holder", func() bool {
		runtime.GC() // the borrower's future is collected: its lend goes back
		return servedFor("lent", head.Cluster, worker) == 0 && driver.net.ow.Lent() == 0
	})
}

// lentAcross is lentResult with the result made on the head and the task
// it is passed to run on the worker (custom resources only they have),
// or both on the head: the borrower reads it from the holder, or in place.
func lentAcross(where string) string {
	return `
@resources(h=1)
task big(i) { return nd.full([2000], 1.0 * i) }
@resources(` + where + `=1)
@nondeterministic
task total(p) { return nd.sum(p) }
pipeline main() {
    let r = big(1)
    let s = get(total(r))
    return s + nd.sum(get(r))
}`
}

// The lent result is freed whether the task it was lent to ran on
// another node than its holder (a stand-in fetched from there) or on the
// holder itself (read in place).
func TestLentResultIsFreedFromEitherNode(t *testing.T) {
	for _, where := range []string{"w", "h"} {
		t.Run("total on "+where, func(t *testing.T) {
			head, worker := startPair(t,
				HeadConfig{Node: Config{CPUs: 1, NodeID: "head", Resources: map[string]float64{"h": 1}}},
				Config{CPUs: 1, NodeID: "worker", Resources: map[string]float64{"w": 1}})
			driver := connectDriver(t, head)
			if got := runJob(t, driver, "across", lentAcross(where)); got.Repr() != "4000.0" {
				t.Fatalf("the job returned %s", got.Repr())
			}
			testutil.Eventually(t, 10*time.Second, "the lent result released by its holder", func() bool {
				runtime.GC()
				return servedFor("across", head.Cluster, worker) == 0 && driver.net.ow.Lent() == 0
			})
		})
	}
}

// escapedResult passes a large result inside a value to a task that
// returns it, and fetches it through the returned value.
const escapedResult = `
task big(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task wrap(p) { return [p] }
pipeline main() {
    let r = big(2)
    let l = get(wrap([r]))
    let v = get(r)
    return nd.sum(get(l[0][0])) + nd.sum(v)
}`

// A future that leaves its owner inside a value keeps its value on its
// holder until the job ends, though the owner fetched it: the value read
// through the future that came back is still there.
func TestResultPassedInsideAValueIsKept(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "esc", escapedResult); got.Repr() != "8000.0" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	// No event says "not released": a later job's lent result, whose
	// release goes the same way (collection, lend back, release batch),
	// is waited for instead of a sleep; a stray release of esc's result
	// would have been sent before it.
	if got := runJob(t, driver, "ctl", lentResult); got.Repr() != "4000.0" {
		t.Fatalf("the control job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the control job's lent result released", func() bool {
		runtime.GC()
		return servedFor("ctl", head.Cluster, worker) == 0
	})
	if servedFor("esc", head.Cluster, worker) == 0 {
		t.Fatal("the holder released a result whose future went further than the task it was lent to")
	}
}

// copiedArgument fetches a large result, then passes it to a task: its
// value, here now, travels as a copy the driver serves (over 64 KiB).
const copiedArgument = `
task big(i) { return nd.full([10000], 1.0 * i) }
@nondeterministic
task total(p) { return nd.sum(p) }
pipeline main() {
    let r = big(1)
    let v = get(r)
    return get(total(r)) + nd.sum(v)
}`

// The copy of a large argument the caller serves for a task is lent to
// it too, and served no more once the task's process gave it back (it
// stayed until the job ended).
func TestServedArgumentCopyIsFreed(t *testing.T) {
	head, _ := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "copy", copiedArgument); got.Repr() != "20000.0" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the driver serving no copy", func() bool {
		runtime.GC()
		return servedFor("copy", driver) == 0
	})
}

// lentInFrames lends many results at once: the tasks they are lent to
// leave the driver together, so they travel in loose frames
// (group_submit.go) as well as alone.
const lentInFrames = `
task big(i) { return nd.full([2000], 1.0 * i) }
@nondeterministic
task total(p) { return nd.sum(p) }
pipeline main() {
    let rs = [big(i) for i in range(16)]
    let ts = [total(r) for r in rs]
    let s = 0.0
    for t in ts { s = s + get(t) }
    for r in rs { s = s + nd.sum(get(r)) }
    return s
}`

// Results lent to tasks sent in loose frames are freed as those sent
// alone are: the frame's receiver borrows each argument and gives it
// back (without, the lends stay out and the holder keeps every result
// until the job ends).
func TestLentInLooseFramesIsFreed(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "frames", lentInFrames); got.Repr() != "480000.0" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the lent results released by their holders", func() bool {
		runtime.GC()
		return servedFor("frames", head.Cluster, worker) == 0 && driver.net.ow.Lent() == 0
	})
}
