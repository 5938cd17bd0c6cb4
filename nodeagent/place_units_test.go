package nodeagent_test

import (
	"context"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// rolloutsLoop gathers, in each of n iterations, m calls of a
// deterministic task, as evolution strategies do.
const rolloutsLoop = `
task rollout(i, j) { return i * 100 + j }

@hint(rollouts)
pipeline main(n: int = 10, m: int = 12) {
    let total = 0
    for i in range(n) {
        total = total + sum(get([rollout(i, j) for j in range(m)]))
    }
    return total
}
`

// The answer of rolloutsLoop: sum over i < 10, j < 12 of 100i + j.
const rolloutsLoopAnswer = "54660"

// Under the rollouts bundle, the calls of one iteration go to the nodes
// in one unit per CPU: on a head and two nodes of one CPU each (the
// driver offers none), three units an iteration, one to each process,
// each in one message, its results back in one. Without the hint each
// call goes alone and no process receives a unit.
func TestRolloutsSendsOneUnitPerNode(t *testing.T) {
	head, nodes, driver, _ := startCluster(t, 2, 1)
	procs := append([]*nodeagent.Cluster{head.Cluster}, nodes...)
	units := func() (total int64, each []int64) {
		for _, p := range procs {
			n := nodeagent.GroupMessagesReceived(p)
			total += n
			each = append(each, n)
		}
		return total, each
	}
	if got := runWithOpt(t, driver, rolloutsLoop, "none").String(); got != rolloutsLoopAnswer {
		t.Fatalf("without hints the loop gave %s, want %s", got, rolloutsLoopAnswer)
	}
	if total, _ := units(); total != 0 {
		t.Fatalf("without hints the processes received %d units, want 0", total)
	}
	lists := nodeagent.DoneListsReceived(driver)
	if got := runWithOpt(t, driver, rolloutsLoop, "").String(); got != rolloutsLoopAnswer {
		t.Fatalf("under rollouts the loop gave %s, want %s", got, rolloutsLoopAnswer)
	}
	total, each := units()
	if total != 10*3 {
		t.Errorf("under rollouts the processes received %d units (%v), want 30: three an iteration", total, each)
	}
	for i, n := range each {
		if n == 0 {
			t.Errorf("process %d received no unit (%v): the units of an iteration are not spread", i, each)
		}
	}
	if got := nodeagent.DoneListsReceived(driver) - lists; got < 10*3 {
		t.Errorf("the driver received %d lists of results, want one a unit (30)", got)
	}
}

// Embedded, the rollouts units give the same answer with as many units
// as the node has CPUs.
func TestRolloutsEmbeddedSameAnswer(t *testing.T) {
	for _, opt := range []string{"", "none"} {
		c, _ := newCluster(t, nodeagent.Config{Nodes: 1, CPUs: 2})
		prog, err := rayflow.Compile("rollouts.rayflow", rolloutsLoop, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: c, Opt: opt})
		if err != nil {
			t.Fatal(rayflow.FormatError(err, rolloutsLoop))
		}
		if v.String() != rolloutsLoopAnswer {
			t.Errorf("--opt %q: %s, want %s", opt, v, rolloutsLoopAnswer)
		}
	}
}
