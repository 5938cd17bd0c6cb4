package serve

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent"
)

// BenchmarkHeadCall is a request through a head to a replica on another
// node (over real sockets, the node in this process too): the CPU and
// allocations of App.call, from many goroutines at once as an ingress
// under load calls it.
func BenchmarkHeadCall(b *testing.B) {
	head, _ := headAndNode(b, 2)
	app := deployOn(b, head.Cluster, "bench", incApp)
	callIncInParallel(b, app)
}

// BenchmarkEmbeddedCall is a request to a replica in the same process
// (embedded, or a node's ingress to its own replica): the CPU and
// allocations of App.call down to the concurrent actor and back, from
// many goroutines at once.
func BenchmarkEmbeddedCall(b *testing.B) {
	c, err := nodeagent.NewCluster(nodeagent.Config{CPUs: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Shutdown("benchmark done") })
	app := deployOn(b, c, "bench", `
@serve(route="/e", replicas=1)
@concurrency(8)
actor E() {
    method inc(x) { return x + 1 }
}`)
	callIncInParallel(b, app)
}

// callIncInParallel calls app's /e inc(1) b.N times from 16 goroutines
// per CPU, as an ingress under load calls it.
func callIncInParallel(b *testing.B, app *App) {
	d := app.byRoute["/e"]
	args := []exec.Value{exec.Int(1)}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := app.call(d, "inc", args, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
