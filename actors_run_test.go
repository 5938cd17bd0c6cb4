package rayflow_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// The conformance programs of named, detached, killed and concurrent
// actors, run in this process on three in-process nodes: what the
// command line checks, here under the race detector too (go test -race).
func TestActorProgramsInProcess(t *testing.T) {
	for _, name := range []string{"actor_named", "actor_detached", "actor_kill", "actor_concurrency"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("spec", "testdata")
			src, err := os.ReadFile(filepath.Join(dir, name+".rayflow"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, name+".out"))
			if err != nil {
				t.Fatal(err)
			}
			prog, err := rayflow.Compile(name+".rayflow", string(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 3, CPUs: 2, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Shutdown("test over")
			if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster}); err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}
