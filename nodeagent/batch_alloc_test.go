package nodeagent_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// batchedCallsSource makes n calls of a small task in groups of 128 and
// gets them all.
const batchedCallsSource = `
@hint(batch, size=128)
task small(i) { return i % 7 }
pipeline main(n: int) { return sum(get([small(i) for i in range(n)])) }
`

// A batched call costs the whole process (caller, scheduler, worker)
// at most four allocations and a half: the caller's arguments, ID and
// future (exec), the call's object, and its result's share, while its
// TaskCall and its task record are made once per chunk and once per
// group, and a body that takes plain values (numbers, strings) runs with
// its call's own arguments, not a copy. Each call took nine before exec
// made a group's calls in chunks (six after), a group made its task
// records in one allocation (five after) and plain arguments were not
// copied on the worker.
func TestBatchedCallAllocationsInProcess(t *testing.T) {
	prog, err := rayflow.Compile("b.rayflow", batchedCallsSource, nil)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Shutdown("test done")
	run := func(n string) {
		v, err := prog.Run(context.Background(), rayflow.RunOptions{Params: map[string]string{"n": n}, Cluster: cluster})
		if err != nil {
			t.Fatal(rayflow.FormatError(err, prog.Source))
		}
		if v.String() == "" {
			t.Fatal("no result")
		}
	}
	run("1024") // warm: threads, pools, the program loaded
	const n = 40960
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run("40960")
	runtime.ReadMemStats(&after)
	perCall := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.2f allocations per batched call", perCall)
	if perCall > 4.6 {
		t.Errorf("%.2f allocations per batched call, want at most 4.6", perCall)
	}
}
