package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/planner"
)

// The tasks of a loose frame carry their lineage as one bundle for the
// whole frame, not one per task: the node takes in as many bundles as
// frames, which together hold the records of the tasks (the driver's GCS
// is slowed so that few, if any, are committed before they are sent).
// The program runs as planned with --opt none: the adaptive planner (the
// default) batches the calls once 16 of them have run, and a driver that
// takes results in fast enough would send the rest as groups, not loose
// frames.
func TestLooseFrameCarriesOneLineageBundle(t *testing.T) {
	_, node, driver := headNodeAndDriver(t, Config{GCSDelay: 3 * time.Second})
	const n = 400
	none, err := planner.ParseOpt("none")
	if err != nil {
		t.Fatal(err)
	}
	v := runNoopsPlanned(t, driver, "jf", `
task noop(i) { return i }
pipeline main(n: int = 10) { return sum(get([noop(i) for i in range(n)])) }`, n, none)
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
