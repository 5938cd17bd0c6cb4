package rayflow_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// What --opt adaptive measured in one run is kept in the GCS, and the
// next run of the same program on that cluster starts with it: run by
// Run (rayflow run) as by RunValues (the REPL's inputs).
func TestAdaptiveStatsCarryToTheNextRun(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(p *rayflow.Program, opts rayflow.RunOptions) error
	}{
		{"Run", func(p *rayflow.Program, opts rayflow.RunOptions) error {
			_, err := p.Run(context.Background(), opts)
			return err
		}},
		{"RunValues", func(p *rayflow.Program, opts rayflow.RunOptions) error {
			_, err := p.RunValues(context.Background(), opts, nil)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) { adaptiveStatsCarry(t, c.run) })
	}
}

func adaptiveStatsCarry(t *testing.T, runProgram func(*rayflow.Program, rayflow.RunOptions) error) {
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
		if err := runProgram(prog, rayflow.RunOptions{Cluster: cluster, Opt: "adaptive", Explain: &explain, JobID: jobID}); err != nil {
			t.Fatal(err)
		}
		if out.String() != "5995\n" {
			t.Fatalf("printed %q", out.String())
		}
		return explain.String()
	}
	// What the first run decides depends on how fast this machine runs
	// 'small' (grouped when under the scheduling cost, alone when not);
	// the second run must start from that decision, whichever it was.
	first := run("job1")
	m := decided.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("the first run decided nothing:\n%s", first)
	}
	want := "from an earlier run: calls of 'small' go " + m[1]
	if second := run("job2"); !strings.Contains(second, want) {
		t.Fatalf("the second run did not start from the first run's decision (want %q):\n%s", want, second)
	}
}

// decided finds adaptive's run-time decision for 'small' in explain's
// output: "go alone" or "go in groups of N".
var decided = regexp.MustCompile(`adaptive: (?:batch: )?calls of 'small' go (alone|in groups of \d+)`)
