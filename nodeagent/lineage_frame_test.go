package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
)

// The tasks of a loose frame carry their lineage as one bundle for the
// whole frame, not one per task: the node takes in as many bundles as
// frames, which together hold the records of the tasks (the driver's GCS
// is slowed so that few, if any, are committed before they are sent).
func TestLooseFrameCarriesOneLineageBundle(t *testing.T) {
	head, err := StartHead(HeadConfig{Listen: "127.0.0.1:0", Node: Config{CPUs: -1, NodeID: "head"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(head.Close)
	node, err := JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", Config{CPUs: 2, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Shutdown("test over") })
	driver, err := ConnectDriver([]string{head.Cluster.Address()}, Config{GCSDelay: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })

	const n = 400
	th := driver.NewThread("jf")
	src := `
task noop(i) { return i }
pipeline main(n: int = 10) { return sum(get([noop(i) for i in range(n)])) }`
	prog, err := LoadProgram(th, "frame.rayflow", src)
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.RegisterProgram(prog, src); err != nil {
		t.Fatal(err)
	}
	fn, _ := prog.Pipeline("main")
	args, err := fn.BindArgs(th, nil, []exec.Kwarg{{Name: "n", Value: exec.Int(n)}})
	if err != nil {
		t.Fatal(err)
	}
	v, rerr := fn.Run(th, args)
	if rerr != nil {
		t.Fatal(rerr.Report())
	}
	if got := v.String(); got != "79800" {
		t.Fatalf("sum = %s, want 79800", got)
	}
	loose := node.net.looseTasks.Load()
	bundles, records := node.lineage.bundlesIn.Load(), node.lineage.recordsIn.Load()
	t.Logf("%d tasks in loose frames; %d bundles taken in holding %d records", loose, bundles, records)
	if loose != n {
		t.Fatalf("%d of the %d tasks came in loose frames", loose, n)
	}
	if records < n/2 {
		t.Fatalf("the bundles held %d records, want about every task's (%d)", records, n)
	}
	if bundles == 0 || bundles*4 > records {
		t.Fatalf("%d bundles for %d records: a bundle per task, not per frame", bundles, records)
	}
}
