package rayflow_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// What --opt adaptive measured in one run is kept in the GCS, and the
// next run of the same program on that cluster starts with it.
func TestAdaptiveStatsCarryToTheNextRun(t *testing.T) {
	var out bytes.Buffer // the cluster prints here
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, CPUs: 2, Stdout: &out, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Shutdown("test over")
	prog, err := rayflow.Compile("small.rayflow", `
task small(i) { return i % 7 }
pipeline main() { print(sum(get([small(i) for i in range(2000)]))) }
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(jobID string) string {
		var explain bytes.Buffer
		out.Reset()
		if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster, Opt: "adaptive", Explain: &explain, JobID: jobID}); err != nil {
			t.Fatal(err)
		}
		if out.String() != "5995\n" {
			t.Fatalf("printed %q", out.String())
		}
		return explain.String()
	}
	first := run("job1")
	if !strings.Contains(first, "adaptive: batch: calls of 'small' go in groups of") {
		t.Fatalf("the first run decided nothing:\n%s", first)
	}
	if second := run("job2"); !strings.Contains(second, "from an earlier run: calls of 'small' go in groups of") {
		t.Fatalf("the second run did not start informed:\n%s", second)
	}
}
