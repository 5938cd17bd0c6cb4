package nodeagent_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// groupPrograms: a fused chain that starts from a value made outside
// it, and batched independent calls.
const (
	fusedChain = `
task seed(n) { return n * 10 }
task step(x) { return x + 1 }
pipeline main(n: int = 300) {
    let x = step(get(seed(1)))
    for i in range(n - 1) {
        x = step(x)
    }
    return get(x)
}
`
	batchedCalls = `
@hint(batch, size=128)
task small(i) { return i % 7 }
pipeline main(n: int = 1000) {
    return sum(get([small(i) for i in range(n)]))
}
`
)

func runWithOpt(t *testing.T, driver *nodeagent.Cluster, src, opt string) exec.Value {
	t.Helper()
	prog, err := rayflow.Compile("groups.rayflow", src, nil)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := prog.Run(ctx, rayflow.RunOptions{Cluster: driver, Opt: opt})
	if err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	return v
}

// A group that spills (the driver offers no resources) travels as one
// unit: one node gets it and runs all its calls, and a call taking an
// earlier call's future reads it there, without fetching it.
func TestSpilledFusedChainRunsOnOneNode(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	if got := runWithOpt(t, driver, fusedChain, "fuse").String(); got != "310" {
		t.Fatalf("the fused chain gave %s, want 310", got)
	}
	var groups, fetched int64
	ranAll := false
	for _, p := range procs {
		groups += nodeagent.GroupsReceived(p)
		fetched += nodeagent.ObjectsFetched(p)
		if p.Stats().Done.Load() >= 300 {
			ranAll = true
		}
	}
	if groups != 1 || !ranAll {
		t.Errorf("the chain went to the nodes in %d groups; one node ran it all: %v", groups, ranAll)
	}
	if fetched != 0 {
		t.Errorf("the nodes fetched %d objects; the chain's values stay where it runs", fetched)
	}
}

// A group goes to its node as one message, not a message per call: the
// 300 calls of a fused chain (one taking a value made outside it) and
// 1,000 batched calls in groups of 128 each come in one message a group,
// with the answers they give alone.
func TestGroupTravelsInOneMessage(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	count := func() (groups, msgs int64) {
		for _, p := range procs {
			groups += nodeagent.GroupsReceived(p)
			msgs += nodeagent.GroupMessagesReceived(p)
		}
		return groups, msgs
	}
	if got := runWithOpt(t, driver, fusedChain, "fuse").String(); got != "310" {
		t.Fatalf("the fused chain gave %s, want 310", got)
	}
	if groups, msgs := count(); groups != 1 || msgs != 1 {
		t.Errorf("the fused chain came in %d groups, %d of them in one message; want 1 and 1", groups, msgs)
	}
	if got := runWithOpt(t, driver, batchedCalls, "batch").String(); got != "2997" {
		t.Fatalf("batched calls gave %s, want 2997", got)
	}
	if groups, msgs := count(); groups < 3 || msgs != groups {
		t.Errorf("the calls came in %d groups, %d of them in one message; want every group in one", groups, msgs)
	}
}

// Batched calls go in groups of the batch size, each to one node; the
// answer is the one without the hint.
func TestSpilledBatchesTravelAsGroups(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	want := runWithOpt(t, driver, batchedCalls, "none").String()
	if got := runWithOpt(t, driver, batchedCalls, "batch").String(); got != want || want != "2997" {
		t.Fatalf("batched calls gave %s, without the hint %s, want 2997", got, want)
	}
	var groups int64
	for _, p := range procs {
		groups += nodeagent.GroupsReceived(p)
	}
	if groups < 2 {
		t.Errorf("1000 batched calls reached the nodes in %d groups", groups)
	}
}

// A group too large to send whole goes call by call, with the same
// answer, a call still taking the future of an earlier one.
func TestTooLargeGroupGoesCallByCall(t *testing.T) {
	old := nodeagent.SetMaxGroupBytes(64)
	defer nodeagent.SetMaxGroupBytes(old)
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	if got := runWithOpt(t, driver, fusedChain, "fuse").String(); got != "310" {
		t.Fatalf("the fused chain gave %s, want 310", got)
	}
	if got := runWithOpt(t, driver, batchedCalls, "batch").String(); got != "2997" {
		t.Fatalf("batched calls gave %s, want 2997", got)
	}
	for _, p := range procs {
		if n := nodeagent.GroupsReceived(p); n != 0 {
			t.Errorf("a node received %d groups larger than the bound", n)
		}
	}
}

// The results of a group come back to its owner in one message per
// group, not one per call.
func TestGroupResultsComeBackInOneMessage(t *testing.T) {
	defer nodeagent.SetDoneHold(nodeagent.SetDoneHold(time.Minute)) // however slow the machine
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	if got := runWithOpt(t, driver, batchedCalls, "batch").String(); got != "2997" {
		t.Fatalf("batched calls gave %s, want 2997", got)
	}
	var groups int64
	for _, p := range procs {
		groups += nodeagent.GroupsReceived(p)
	}
	if lists := nodeagent.DoneListsReceived(driver); groups < 2 || lists != groups {
		t.Errorf("the nodes received %d groups and sent their results in %d messages; want one message per group", groups, lists)
	}
}

// A call of a group that reads an earlier call's result through its
// owner (the earlier call's future inside a list) gets it: the results
// a group holds back for one message go before any of its calls waits.
func TestGroupCallReadsEarlierResultThroughOwner(t *testing.T) {
	_, _, driver, _ := startCluster(t, 2, 1)
	const src = `
@hint(batch, size=16)
task acc(i, prev: list) {
    if len(prev) == 0 {
        return i
    }
    return get(prev[0]) + i
}
pipeline main(n: int = 40) {
    let x = acc(0, [])
    for i in range(1, n) {
        x = acc(i, [x])
    }
    return get(x)
}
`
	if got := runWithOpt(t, driver, src, "batch").String(); got != "780" {
		t.Fatalf("the chain through lists gave %s, want 780", got)
	}
}

// A group holds a finished call's result back only briefly: while a
// later call of its group still runs, the caller has it.
func TestGroupSendsHeldResultWhileLaterCallRuns(t *testing.T) {
	_, _, driver, _ := startCluster(t, 2, 1)
	const src = `
@hint(batch, size=2)
task work(n) {
    let s = 0
    for k in range(n) {
        s += k
    }
    return s
}
pipeline main() {
    let fs = [work(n) for n in [1, 100000000]]
    let ready, pending = wait(fs, num=1)
    let now, later = wait(fs, num=2, timeout=0)
    cancel(fs[1])
    return len(now)
}
`
	if got := runWithOpt(t, driver, src, "batch").String(); got != "1" {
		t.Fatalf("when the first call's result came, %s calls were done; want 1 (the second still runs)", got)
	}
}

// Plain tasks sent to a node travel in loose frames: what they share
// (owner, program, output, resources) once per frame, each task alone on
// the node; the answer is the one embedded.
func TestPlainTasksTravelInLooseFrames(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	const plain = `
task sq(i) { return i * i }
pipeline main(n: int = 500) {
    return sum(get([sq(i) for i in range(n)]))
}
`
	if got := runWithOpt(t, driver, plain, "none").String(); got != "41541750" {
		t.Fatalf("the plain tasks gave %s, want 41541750", got)
	}
	var loose int64
	for _, p := range procs {
		loose += nodeagent.LooseTasksReceived(p)
	}
	if loose != 500 {
		t.Errorf("%d of the 500 tasks came in loose frames; want all", loose)
	}
}

// The prints of the calls of a group sent to another node reach the
// driver, every one, in the order the calls ran (the calls share one
// route to the driver).
func TestGroupCallsPrintAtTheDriver(t *testing.T) {
	head, nodes, driver, out := startCluster(t, 2, 1)
	if got := runWithOpt(t, driver, fusedPrinting, "").String(); got != "50" { // group_fused_test.go
		t.Fatalf("the chain gave %s, want 50", got)
	}
	var want []string
	for i := 0; i < 50; i++ {
		want = append(want, fmt.Sprintf("step %d", i))
	}
	var groups int64
	for _, p := range append([]*nodeagent.Cluster{head.Cluster}, nodes...) {
		groups += nodeagent.GroupMessagesReceived(p)
	}
	if groups != 1 {
		t.Fatalf("the chain went in %d group messages, want 1", groups)
	}
	testutil.Eventually(t, 10*time.Second, "the 50 prints", func() bool { return strings.Count(out.String(), "step ") == 50 })
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("the driver printed\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// A driver that stores a program has the nodes of its view load it
// ahead of its first task there, and connect back to the driver (where
// their results will go): after a job that starts no task at all, every
// node has compiled its program and is connected to the driver.
func TestNodesLoadAProgramAhead(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	for _, p := range procs {
		if n := nodeagent.ProgramsCompiled(p); n != 0 {
			t.Fatalf("a node has %d programs before any job", n)
		}
	}
	if got := runWithOpt(t, driver, "pipeline main() { return 7 }", "none").String(); got != "7" {
		t.Fatalf("the job gave %s, want 7", got)
	}
	for _, p := range procs {
		testutil.Eventually(t, 20*time.Second, "the program loaded ahead", func() bool { return nodeagent.ProgramsCompiled(p) == 1 })
		testutil.Eventually(t, 20*time.Second, "the node connected to the driver", func() bool { return nodeagent.ConnectedTo(p, driver.Address()) })
	}
}
