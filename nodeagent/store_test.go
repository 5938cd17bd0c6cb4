package nodeagent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// run compiles src and runs its main pipeline on cluster, returning what
// it printed.
func run(t *testing.T, cluster *nodeagent.Cluster, out *bytes.Buffer, src string) error {
	t.Helper()
	prog, err := rayflow.Compile("test.rayflow", src, nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	_, err = prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster, JobID: "job1"})
	return err
}

const bigObjects = `
task big(i: int) {
    return nd.full([1000000], float(i))
}
pipeline main() {
    let fs = [big(i) for i in range(10)]
    wait(fs, num=len(fs))       # all ten made before any is read: most are spilled
    let total = 0.0
    for f in fs { total += nd.sum(get(f)) }
    print(total)
}
`

// Ten 8 MB results through a 20 MB store: most are spilled to disk and
// read back, and the sum is still right.
func TestStoreSpillsAndRestores(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2, Stdout: &out, ObjectStoreMemory: 20 << 20, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	if err := run(t, c, &out, bigObjects); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "45000000.0" {
		t.Fatalf("printed %q, want 45000000.0", got)
	}
	used, limit, spills, restores := c.StoreUsage()
	if spills == 0 || restores == 0 {
		t.Fatalf("spills=%d restores=%d; want both > 0", spills, restores)
	}
	if used > limit {
		t.Fatalf("store holds %d bytes over its limit %d", used, limit)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-1", "spill")); err != nil {
		t.Fatalf("no spill directory under the data directory: %v", err)
	}
}

// When spilling is impossible, get raises a clear error naming what was
// too large.
func TestStoreFullIsAnError(t *testing.T) {
	notADir := "/dev/null/rayflow" // below a file: nothing can be created there
	var out bytes.Buffer
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2, Stdout: &out, ObjectStoreMemory: 4 << 20, DataDir: notADir, Lineage: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	err = run(t, c, &out, bigObjects)
	if err == nil || !strings.Contains(err.Error(), "object store is full") || !strings.Contains(err.Error(), "task 'big'") {
		t.Fatalf("error = %v; want an object-store-full error naming task 'big'", err)
	}
}

// Every task's specification reaches the GCS tasks table, with its
// deterministic ID, its parent and its arguments.
func TestLineageReachesGCS(t *testing.T) {
	var out bytes.Buffer
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	err = run(t, c, &out, `
task sq(x) { return x * x }
task add(a, b) { return a + b }
pipeline main() { print(get(add(sq(3), sq(4)))) }`)
	if err != nil {
		t.Fatal(err)
	}
	store, err := c.GCS()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Barrier(); err != nil {
		t.Fatal(err)
	}
	var rec gcs.TaskRecord
	testutil.Eventually(t, 5*time.Second, "task job1.3 in the GCS", func() bool {
		rec, err = store.GetTask("job1.3")
		return err == nil
	})
	if rec.Function != "add" || rec.ParentID != "job1" || len(rec.Args) != 2 || rec.Args[0].ObjectID != "job1.1" || !rec.Deterministic {
		t.Fatalf("lineage of add = %+v", rec)
	}
}

// --timeline writes Chrome trace JSON with one complete event per task,
// naming its node and worker.
func TestTimelineRecordsTasks(t *testing.T) {
	var out bytes.Buffer
	c, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 2, CPUs: 1, Stdout: &out, Timeline: true, Lineage: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown("test over")
	err = run(t, c, &out, `
task work(i) { let s = 0
  for k in range(20000) { s += k }
  return s }
pipeline main() { print(len(get([work(i) for i in range(6)]))) }`)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteTimeline(&buf); err != nil {
		t.Fatal(err)
	}
	var trace struct {
		TraceEvents []struct {
			Name, Ph, Pid string
			Tid           int
			Dur           float64
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &trace); err != nil {
		t.Fatalf("timeline is not JSON: %v\n%s", err, buf.String())
	}
	if len(trace.TraceEvents) != 6 {
		t.Fatalf("%d events, want 6: %s", len(trace.TraceEvents), buf.String())
	}
	for _, ev := range trace.TraceEvents {
		if ev.Name != "work" || ev.Ph != "X" || (ev.Pid != "node-1" && ev.Pid != "node-2") || ev.Tid != 0 || ev.Dur <= 0 {
			t.Errorf("bad event %+v", ev)
		}
	}
}
