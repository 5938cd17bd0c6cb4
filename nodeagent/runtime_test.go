package nodeagent_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

func newCluster(t *testing.T, cfg nodeagent.Config) (*nodeagent.Cluster, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	cfg.Stdout = &out
	if cfg.Lineage == "" {
		cfg.Lineage = "off"
	}
	c, err := nodeagent.NewCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown("test over") })
	return c, &out
}

func expectOutput(t *testing.T, out *bytes.Buffer, want string) {
	t.Helper()
	if got := strings.TrimSpace(out.String()); got != want {
		t.Fatalf("printed %q, want %q", got, want)
	}
}

// A task blocked in get gives its CPU back, so a deep tree of nested
// tasks finishes even on one CPU.
func TestNestedTasksOnOneCPU(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 1})
	err := run(t, c, out, `
task tree(depth: int) -> int {
    if depth == 0 { return 1 }
    return sum(get([tree(depth - 1), tree(depth - 1)]))
}
pipeline main() { print(get(tree(6))) }`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, "64")
}

// Busy tasks submitted on one node spill to the others through the
// global scheduler.
func TestTasksSpreadOverNodes(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{Nodes: 3, CPUs: 1})
	err := run(t, c, out, `
task busy(i) {
    let s = 0
    for k in range(300000) { s += k }
    return sys.node()
}
pipeline main() {
    let seen = {}
    for n in get([busy(i) for i in range(9)]) { seen[n] = true }
    print(sorted(keys(seen)))
}`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, `["node-1", "node-2", "node-3"]`)
}

// cancel stops a running task; get raises "cancelled".
func TestCancelRunningTask(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
task forever() { while true { } }
pipeline main() {
    let f = forever()
    time.sleep(0.05)
    cancel(f)
    try { get(f) } catch e { print(e.kind) }
}`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, "cancelled")
}

// Calls from one caller run in call order, one at a time.
func TestActorCallOrder(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
actor Log() {
    let items = []
    method add(x) { items.append(x) }
    method all() { return items }
}
pipeline main() {
    let l = Log()
    for i in range(200) { l.add(i) }
    print(get(l.all()) == list(range(200)))
}`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, "true")
}

// A failed dependency fails its dependents, and get names both.
func TestFailedDependencyNamesBoth(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
task bad() { fail("broken input") }
task use(x) { return x + 1 }
pipeline main() { get(use(bad())) }`)
	if err == nil {
		t.Fatal("run succeeded; want an error")
	}
	for _, want := range []string{"task 'use'", "task 'bad'", "broken input"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A task needing more than any node has is refused at the call, with the
// sizes in the message.
func TestInfeasibleTask(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
@resources(cpu=64)
task huge() { return 1 }
pipeline main() { get(huge()) }`)
	if err == nil || !strings.Contains(err.Error(), "cpu=64") {
		t.Fatalf("error = %v; want one naming cpu=64", err)
	}
}

// An actor whose handles are all gone finishes its queued calls and
// stops, giving its resources back.
func TestActorWithoutHandlesStops(t *testing.T) {
	c, out := newCluster(t, nodeagent.Config{CPUs: 2})
	err := run(t, c, out, `
@resources(cpu=1)
actor Cell(v) { method get() { return v } }
pipeline main() {
    let total = 0
    for i in range(20) { total += get(Cell(i).get()) }
    print(total)
}`)
	if err != nil {
		t.Fatal(err)
	}
	expectOutput(t, out, "190")
	testutil.Eventually(t, 5*time.Second, "every actor stopped once its handle was dropped", func() bool {
		runtime.GC()
		return c.Alive() == 0
	})
}
