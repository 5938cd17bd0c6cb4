package nodeagent_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// Three calls of a spread task from one call site run on three distinct
// nodes, though the driver's node has room for all of them; so do three
// instances of a spread actor class.
func TestSpreadCallsGoToDistinctNodes(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{Nodes: 3, CPUs: 4})
	err := run(t, c, out, `
@hint(spread)
task where(i) { return sys.node() }

@hint(spread)
actor Box() {
    method where() { return sys.node() }
}

pipeline main() {
    print(sorted(get([where(i) for i in range(3)])))
    let boxes = [Box() for i in range(3)]
    print(sorted(get([b.where() for b in boxes])))
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	expectOutput(t, out, `["node-1", "node-2", "node-3"]`+"\n"+`["node-1", "node-2", "node-3"]`)
}

// Two tasks with locality that take a 100 MB argument made on node-2
// run on node-2, though the driver's node-1 has room for them.
func TestLocalityRunsNextToTheLargestArgument(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 100 MB")
	}
	c, out := newCluster(t, nodeagent.Config{Nodes: 3, CPUs: 4})
	err := run(t, c, out, `
@hint(spread)
task make(n) { return [sys.node(), nd.full([n], 2.0)] }

@hint(locality)
task total(small, t) { return [sys.node(), t[0], nd.sum(t[1])] }

pipeline main() {
    let made = []
    for n in [1, 12500000] { made.append(make(n)) }   # spread: node-1, then node-2
    let big = made[1]
    for r in get([total(made[0], big), total(made[0], big)]) { print(r[0], r[1], r[2]) }
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	expectOutput(t, out, "node-2 node-2 25000000.0\nnode-2 node-2 25000000.0")
}

// A task colocated with an actor handle runs on the actor's node, though
// the driver's node has room for it.
func TestColocateRunsOnTheActorsNode(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{Nodes: 3, CPUs: 4})
	err := run(t, c, out, `
@resources(cpu=3)
actor Hog() {
    method where() { return sys.node() }
}

@hint(colocate, with=a)
task beside(a, i) { return sys.node() }

pipeline main() {
    let here = Hog()       # takes 3 of node-1's 4 cpus
    let there = Hog()      # does not fit on node-1
    let home = get(there.where())
    let places = get([beside(there, i) for i in range(2)])
    print(get(here.where()), home != get(here.where()), places[0] == home, places[1] == home)
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	expectOutput(t, out, "node-1 true true true")
}

// On a cluster (a head and two nodes, a driver): three instances of a
// spread actor go to three nodes, though the head has the most room, and
// a task colocated with each runs on its node.
func TestSpreadActorsAndColocateOnACluster(t *testing.T) {
	_, _, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 16, NodeID: "head"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-a"}, nodeagent.Config{CPUs: 2, NodeID: "worker-b"})
	err := runOn(t, driver, `
@hint(spread)
actor Box() {
    method where() { return sys.node() }
}

@hint(colocate, with=box)
task beside(box, i) { return sys.node() }

pipeline main() {
    let boxes = [Box() for i in range(3)]
    let homes = get([b.where() for b in boxes])
    print(sorted(homes))
    print(get([beside(b, 1) for b in boxes]) == homes)
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	if got, want := strings.TrimSpace(out.String()), `["head", "worker-a", "worker-b"]`+"\ntrue"; got != want {
		t.Errorf("printed:\n%s\nwant:\n%s", got, want)
	}
}

// On a cluster, tasks with locality run on the node holding their
// largest argument (1 MB, too small for the default locality score to
// outweigh the head's free cpus).
func TestLocalityOnACluster(t *testing.T) {
	_, _, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 16, NodeID: "head"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-a"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-b", Resources: map[string]float64{"holder": 1}})
	err := runOn(t, driver, `
@resources(cpu=1, holder=1)
task make(n) { return [sys.node(), nd.full([n], 2.0)] }

@hint(locality)
task total(t) { return [sys.node(), t[0], nd.sum(t[1])] }

pipeline main() {
    let big = make(125000)
    for r in get([total(big), total(big)]) { print(r[0], r[1], r[2]) }
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	if got, want := strings.TrimSpace(out.String()), "worker-b worker-b 250000.0\nworker-b worker-b 250000.0"; got != want {
		t.Errorf("printed:\n%s\nwant:\n%s", got, want)
	}
}

// On a cluster, the calls of a tree reduction run next to their largest
// input: every input is made on worker-b, so every combination runs there
// too, though the head has the most room (without the placement they ran
// where the default placement put them: the head).
func TestTreeReduceRunsNextToItsInputs(t *testing.T) {
	head, _, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 16, NodeID: "head"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-a"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-b", Resources: map[string]float64{"holder": 1}})
	err := runOn(t, driver, `
@resources(cpu=1, holder=1)
task make(i) { return nd.full([125000], 2.0) }

@hint(tree_reduce, arity=2)
task join(a, b) { return a + b }

pipeline main() {
    print(nd.sum(get(reduce(join, [make(i) for i in range(4)]))))
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	if got := strings.TrimSpace(out.String()); got != "1000000.0" {
		t.Errorf("printed %q, want 1000000.0", got)
	}
	if got := nodeagent.TaskNodes(head.Cluster)["join"]; !slices.Equal(got, []string{"worker-b", "worker-b", "worker-b"}) {
		t.Errorf("the tree's 3 calls ran on %v, want all on worker-b, beside their inputs", got)
	}
}

// A hint that cannot be honoured falls back to the default placement:
// a task colocated with an actor that holds its node's only cpu for good
// runs on the other node instead of waiting for ever. (The default
// placement used to queue the second call there too, for ever: an
// embedded spill now avoids nodes whose actors hold them for good.)
func TestColocateFallsBackWhenTheActorsNodeNeverHasRoom(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{Nodes: 2, CPUs: 1})
	err := run(t, c, out, `
@resources(cpu=1)
actor Hog() {
    method where() { return sys.node() }
}

@hint(colocate, with=a)
task beside(a, i) { return sys.node() }

pipeline main() {
    let hog = Hog()
    print(get(hog.where()), get([beside(hog, i) for i in range(2)]))
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	expectOutput(t, out, `node-1 ["node-2", "node-2"]`)
}
