package nodeagent_test

import (
	"context"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// remoteBatcher's outer task can only run on the node with far=1; the
// chain of inner calls it makes there is eligible for fuse.
const remoteBatcher = `
task inner(x) { return x + 2 }
@resources(cpu=1, far=1)
task outer(n) {
    let x = inner(0)
    for i in range(n - 1) {
        x = inner(x)
    }
    return get(x)
}
pipeline main() { return get(outer(50)) }
`

// The driver's options travel with the program: the node that runs a
// task of it plans it with them, so the calls the task makes there are
// fused as the driver's would be.
func TestPlanTravelsWithProgram(t *testing.T) {
	_, nodes, driver, _ := startClusterOf(t, nodeagent.Config{CPUs: 1, NodeID: "head"},
		nodeagent.Config{CPUs: 1, NodeID: "worker-far", Resources: map[string]float64{"far": 1}})
	prog, err := rayflow.Compile("batcher.rayflow", remoteBatcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := prog.Run(ctx, rayflow.RunOptions{Cluster: driver, Opt: "fuse"})
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "100" {
		t.Fatalf("got %s, want 100", v)
	}
	loaded := nodeagent.LoadedPrograms(nodes[0])
	if len(loaded) != 1 {
		t.Fatalf("the node loaded %d programs, want 1", len(loaded))
	}
	remote := loaded[0]
	if remote.Plan == nil || remote.Plan.Spec != "fuse" {
		t.Fatalf("the node planned the program with %+v, want the driver's spec \"fuse\"", remote.Plan)
	}
	if remote.PlanStats.GroupedCalls.Load() == 0 {
		t.Errorf("the calls outer made on the node were not fused")
	}
}
