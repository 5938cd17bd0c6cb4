package serve

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// BenchmarkHeadCall is a request through a head to a replica on another
// node (over real sockets, the node in this process too): the CPU and
// allocations of App.call, from many goroutines at once as an ingress
// under load calls it.
func BenchmarkHeadCall(b *testing.B) {
	head, _ := headAndNode(b, 2)
	app := deployOn(b, head.Cluster, "bench", incApp)
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
