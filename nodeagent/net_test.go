package nodeagent_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// startCluster starts a head and n nodes in this process, each serving
// the cluster protocol on its own 127.0.0.1 port, and a driver.
func startCluster(t *testing.T, n, cpus int) (*nodeagent.Head, []*nodeagent.Cluster, *nodeagent.Cluster, *testutil.Buffer) {
	t.Helper()
	var nodes []nodeagent.Config
	for i := 0; i < n; i++ {
		nodes = append(nodes, nodeagent.Config{CPUs: cpus, NodeID: "worker-" + string(rune('a'+i))})
	}
	return startClusterOf(t, nodeagent.Config{CPUs: cpus, NodeID: "head"}, nodes...)
}

// startClusterOf starts a head whose own node is headNode, the nodes, and
// a driver, in this process. No test here kills a node: the head keeps
// the default dead timeout, so a node whose heartbeats a loaded machine
// (the race detector, a 100 MB tensor) delays is not declared dead.
func startClusterOf(t *testing.T, headNode nodeagent.Config, nodes ...nodeagent.Config) (*nodeagent.Head, []*nodeagent.Cluster, *nodeagent.Cluster, *testutil.Buffer) {
	t.Helper()
	head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Node: headNode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	var joined []*nodeagent.Cluster
	for _, cfg := range nodes {
		c, err := nodeagent.JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Shutdown("test over") })
		joined = append(joined, c)
	}
	out := &testutil.Buffer{}
	driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	return head, joined, driver, out
}

func runOn(t *testing.T, c *nodeagent.Cluster, src string) error {
	t.Helper()
	prog, err := rayflow.Compile("job.rayflow", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = prog.Run(context.Background(), rayflow.RunOptions{Cluster: c})
	return err
}

// A job from a driver spreads over the head and two nodes: tasks,
// dependencies between tasks on different nodes, nested tasks, a large
// result fetched from where it was made, and an actor in another process.
func TestJobSpreadsOverProcesses(t *testing.T) {
	_, _, driver, out := startCluster(t, 2, 1)
	err := runOn(t, driver, `
task where(i) {
    let s = 0
    for k in range(200000) { s += k }
    return sys.node()
}
task inc(x) { return x + 1 }
task big(n) { return nd.ones([n]) }
task nested(n) { return sum(get([inc(i) for i in range(n)])) }
actor Counter(start) {
    let n = start
    method add(k) { n += k
        return n }
}
pipeline main() {
    let seen = {}
    for node in get([where(i) for i in range(12)]) { seen[node] = true }
    print(sorted(keys(seen)))
    print(get(inc(inc(inc(1)))))
    print(nd.sum(get(big(100000))))
    print(get(nested(10)))
    let c = Counter(10)
    c.add(1)
    print(get(c.add(5)))
    print(len(sys.nodes()))
}`)
	if err != nil {
		t.Fatalf("%v", rayflow.FormatError(err, ""))
	}
	want := `["head", "worker-a", "worker-b"]
4
100000.0
55
16
3`
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}

// A task's error crosses processes with its stack and the node it ran on.
func TestRemoteErrorNamesNode(t *testing.T) {
	_, _, driver, _ := startCluster(t, 1, 1)
	err := runOn(t, driver, `
task boom(x) { return x // 0 }
pipeline main() { get([boom(i) for i in range(4)]) }`)
	if err == nil {
		t.Fatal("no error")
	}
	report := rayflow.FormatError(err, "")
	if !strings.Contains(report, "task 'boom' failed: integer division by zero") || !strings.Contains(report, "(on node ") || !strings.Contains(report, "job.rayflow:2:") {
		t.Fatalf("report:\n%s", report)
	}
}

// Prints made by tasks and actors on other nodes reach the driver.
func TestRemoteOutputReachesDriver(t *testing.T) {
	_, _, driver, out := startCluster(t, 2, 1)
	err := runOn(t, driver, `
task hello(i) {
    print("task", i, "says hi")
    return get(nested(i))
}
task nested(i) { print("nested", i)
    return i }
actor Talker() { method talk() { print("actor talks") } }
pipeline main() {
    get([hello(i) for i in range(6)])
    get(Talker().talk())
}`)
	if err != nil {
		t.Fatal(err)
	}
	// Output from a nested task travels on its own connection, so it may
	// land a moment after the job's result.
	for _, want := range []string{"task 5 says hi", "nested 3", "actor talks"} {
		testutil.Eventually(t, 2*time.Second, fmt.Sprintf("%q in the driver's output", want), func() bool {
			return strings.Contains(out.String(), want)
		})
	}
}

// A 100 MB tensor made on one node is read by a task on another: it is
// fetched from where it lives, streamed, and arrives intact. Resources
// only one node has put the maker on the head and the reader on the
// worker, and both report where they ran.
func TestLargeObjectMovesBetweenNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MB")
	}
	_, _, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 1, NodeID: "head", Resources: map[string]float64{"maker": 1}},
		nodeagent.Config{CPUs: 1, NodeID: "worker-a", Resources: map[string]float64{"reader": 1}})
	err := runOn(t, driver, `
@resources(maker=1)
task make(n) { return [sys.node(), nd.full([n], 2.0)] }
@resources(reader=1)
task total(made) { return [nd.sum(made[1]), made[0], sys.node()] }
pipeline main() {
    let big = make(12500000)
    let sum, made_on, read_on = get(total(big))
    print(sum, made_on, read_on)
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	if got := strings.TrimSpace(out.String()); got != "25000000.0 head worker-a" {
		t.Fatalf("printed %q, want the sum made on head and read on worker-a", got)
	}
}
