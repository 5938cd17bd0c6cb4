package serve

import (
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/exec"
)

// BenchmarkHeadCall is a request through a head to a replica on another
// node (over real sockets, the node in this process too): the CPU and
// allocations of App.call, from many goroutines at once as an ingress
// under load calls it.
func BenchmarkHeadCall(b *testing.B) {
	head, _ := headAndNode(b, 2)
	prog, err := rayflow.Compile("app.rayflow", `
@serve(route="/e", replicas=2, min_replicas=2)
@resources(cpu=1)
@concurrency(8)
actor E() {
    method inc(x) { return x + 1 }
}`, nil)
	if err != nil {
		b.Fatal(err)
	}
	app, err := Deploy(head.Cluster, prog, Options{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
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
