package rayflow_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// benchHintProgram runs a program of bench/rayflow/hints once per
// iteration on one cluster, with the options of --opt opt.
func benchHintProgram(b *testing.B, file, opt string, params map[string]string) {
	src, err := os.ReadFile("bench/rayflow/hints/" + file)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := rayflow.Compile(file, string(src), nil)
	if err != nil {
		b.Fatal(err)
	}
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, Stdout: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Shutdown("bench over")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster, Opt: opt, Params: params}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHintChainNone(b *testing.B) { benchHintProgram(b, "chain.rayflow", "none", nil) }
func BenchmarkHintChainFuse(b *testing.B) { benchHintProgram(b, "chain.rayflow", "fuse", nil) }
func BenchmarkHintManyNone(b *testing.B) {
	benchHintProgram(b, "many.rayflow", "none", map[string]string{"n": "10000"})
}
func BenchmarkHintManyBatch(b *testing.B) {
	benchHintProgram(b, "many.rayflow", "batch", map[string]string{"n": "10000"})
}
func BenchmarkHintManyAdaptive(b *testing.B) {
	benchHintProgram(b, "many.rayflow", "adaptive", map[string]string{"n": "10000"})
}
