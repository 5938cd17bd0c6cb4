package nodeagent

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/planner"
	"github.com/rayflow/rayflow/stash"
)

// Over a cluster, a process's stash sends each batch of lineage to a
// head, which keeps it as one row of the GCS (wire.GCSPutTaskBatch): the
// head's GCS holds as many rows as the stashes wrote batches, far fewer
// than the records in them, and finds each task's record by its ID.
func TestClusterLineageIsOneGCSRowPerBatch(t *testing.T) {
	head, node, driver := headNodeAndDriver(t, Config{})
	runNoops(t, driver, "jb", `
task noop(i) { return i }
pipeline main(n: int = 10) { return len(get([noop(i) for i in range(n)])) }`, 300)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []*Cluster{driver, node, head.Cluster} {
		if err := c.FlushLineage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	written := driver.LineageStats().Batches + node.LineageStats().Batches + head.Cluster.LineageStats().Batches
	batches, records := head.Store.TaskBatches()
	if batches == 0 || uint64(batches) > written || records <= batches {
		t.Fatalf("the head's GCS holds %d rows of %d records; the stashes wrote %d batches", batches, records, written)
	}
	rec, err := head.Store.GetTask("jb.1")
	if err != nil || rec.Function != "noop" {
		t.Fatalf("the first task's record: %+v, %v", rec, err)
	}
	t.Logf("%d records in %d rows", records, batches)
}

// headNodeAndDriver starts a head that runs no task, a node with two
// CPUs and a driver made with driverCfg, in this process over loopback.
func headNodeAndDriver(t *testing.T, driverCfg Config) (*Head, *Cluster, *Cluster) {
	t.Helper()
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
	driver, err := ConnectDriver([]string{head.Cluster.Address()}, driverCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	return head, node, driver
}

// runNoops runs src's pipeline main(n) as job on driver and returns its
// value.
func runNoops(t *testing.T, driver *Cluster, job, src string, n int) exec.Value {
	t.Helper()
	return runNoopsPlanned(t, driver, job, src, n, planner.Default)
}

// runNoopsPlanned is runNoops with the program planned with opt.
func runNoopsPlanned(t *testing.T, driver *Cluster, job, src string, n int, opt planner.Opt) exec.Value {
	t.Helper()
	th := driver.NewThread(job)
	fp, err := frontend.Compile(job+".rayflow", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := fp.PlanWith(opt)
	prog, err := fp.LoadPlanned(th, plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := driver.RegisterProgram(prog, src); err != nil {
		t.Fatal(err)
	}
	fn, _ := prog.Pipeline("main")
	args, err := fn.BindArgs(th, nil, []exec.Kwarg{{Name: "n", Value: exec.Int(int64(n))}})
	if err != nil {
		t.Fatal(err)
	}
	v, rerr := fn.Run(th, args)
	if rerr != nil {
		t.Fatal(rerr.Report())
	}
	return v
}

// A call's and a group's spec write into a batch the row of the record
// they build (the flusher writes them so, without building the record):
// small values inline, futures by reference, a large value left out.
func TestSpecRowsMatchTheirRecords(t *testing.T) {
	fut := exec.FutureValue(exec.NewFuture("j.1.2", "task 'f'"))
	big := exec.Str(strings.Repeat("x", InlineLimit+10))
	calls := []*exec.TaskCall{
		{ID: "j.1.3", Args: []exec.Value{exec.Int(5), fut, big}},
		{ID: "j.1.4", Args: []exec.Value{exec.Str(strings.Repeat("y", 200))}},
		{ID: "j.1.5"},
	}
	specs := map[string]stash.RowWriter{
		"call":          &callSpec{call: calls[0], node: "n1"},
		"call, no args": &callSpec{call: calls[2], node: "n1"},
		"group":         &groupSpec{calls: calls, node: "n1"},
		"group of one":  &groupSpec{calls: calls[:1], node: "n1"},
	}
	for name, spec := range specs {
		want := gcs.NewTaskBatch(0)
		rec := spec.Record()
		want.Add(&rec)
		got := gcs.NewTaskBatch(0)
		spec.AppendRow(got)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: AppendRow wrote\n%x\nthe record is\n%x", name, got.Bytes(), want.Bytes())
		}
	}
}
