package nodeagent_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

// Bottom-up scheduling: a driver places plain tasks on its own view of
// a cluster that has room for them and sends them straight to the
// nodes; the head's global scheduler is not asked (it was asked once per
// task before), nor whether the driver may dial the nodes a head
// reported in its view. The tasks still run on every node.
func TestPlainTasksSkipTheHeadsScheduler(t *testing.T) {
	head, _, driver, out := startCluster(t, 2, 1)
	before := nodeagent.PlacementsAsked(head.Cluster)
	viewBefore := nodeagent.PlacedOnView(driver)
	err := runOn(t, driver, `
task where(i) {
    let s = 0
    for k in range(20000) { s += k }
    return sys.node()
}
pipeline main() {
    let seen = {}
    for node in get([where(i) for i in range(60)]) { seen[node] = true }
    print(sorted(keys(seen)))
    let x = 0
    for i in range(40) { x = get(where(x)) }
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	if got, want := strings.TrimSpace(out.String()), `["head", "worker-a", "worker-b"]`; got != want {
		t.Errorf("the tasks ran on %s, want %s", got, want)
	}
	asked := nodeagent.PlacementsAsked(head.Cluster) - before
	onView := nodeagent.PlacedOnView(driver) - viewBefore
	if asked > 5 || onView < 95 {
		t.Errorf("of 100 plain tasks the head placed %d and the driver's view %d; want about 0 and 100", asked, onView)
	}
	if n := nodeagent.DialsAsked(driver); onView > 0 && n != 0 {
		t.Errorf("the driver asked the heads %d times whether it may dial; the nodes of its view need no asking", n)
	}
}

// A task no node could hold is still refused with kind resource: the
// local view sends it to the head, which knows for sure.
func TestInfeasibleTaskAsksTheHead(t *testing.T) {
	head, _, driver, _ := startCluster(t, 2, 1)
	before := nodeagent.PlacementsAsked(head.Cluster)
	prog, err := rayflow.Compile("job.rayflow", `
@resources(cpu=8)
task huge() { return 1 }
pipeline main() { return get(huge()) }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = prog.Run(context.Background(), rayflow.RunOptions{Cluster: driver, Opt: "none"})
	var xe *exec.Error
	if !errors.As(err, &xe) || xe.Kind != exec.KindResource {
		t.Fatalf("an 8-cpu task on 1-cpu nodes gave %v; want an error of kind resource", err)
	}
	if nodeagent.PlacementsAsked(head.Cluster) == before {
		t.Errorf("the head was not asked about an infeasible task")
	}
}

// A group whose calls take a large argument is not placed on the local
// view: the head's locality score sends it, whole, to the node that
// holds the argument, which reads it in place.
func TestBatchedTasksRunWhereTheirLargeArgumentLives(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 100 MB")
	}
	// worker-b holds the argument (only it has "holder") and has the
	// least room: the local view would send the group to head or worker-a.
	head, workers, driver, _ := startClusterOf(t, nodeagent.Config{CPUs: 4, NodeID: "head"},
		nodeagent.Config{CPUs: 4, NodeID: "worker-a"},
		nodeagent.Config{CPUs: 3, NodeID: "worker-b", Resources: map[string]float64{"holder": 1}})
	got := runWithOpt(t, driver, `
@resources(cpu=1, holder=1)
task make(n) { return nd.full([n], 2.0) }
@hint(batch, size=8)
@resources(cpu=1)
task total(t) { return nd.sum(t) }
pipeline main() {
    let big = make(12500000)
    return sum(get([total(big) for i in range(4)]))
}`, "batch")
	if got.String() != "100000000.0" {
		t.Errorf("the batched calls summed to %s, want 100000000.0", got)
	}
	procs := append([]*nodeagent.Cluster{head.Cluster, driver}, workers...)
	for _, c := range procs {
		if n := nodeagent.ObjectsFetched(c); n != 0 {
			t.Errorf("the process of %s fetched %d objects, want none", c.Head().ID, n)
		}
		want := int64(0)
		if c.Head().ID == "worker-b" {
			want = 1
		}
		if n := nodeagent.GroupsReceived(c); n != want {
			t.Errorf("the process of %s received %d groups, want %d (the one group, where the argument lives)", c.Head().ID, n, want)
		}
	}
}
