package nodeagent

import (
	"testing"

	"github.com/rayflow/rayflow/exec"
)

// fusedChainSource is a chain of n tiny dependent tasks that the planner
// fuses (@hint(fuse)): each chain goes to a node as one group.
const fusedChainSource = `
@hint(fuse)
task step(x) { return x + 1 }
pipeline main(n: int = 1000, r: int = 1) {
    let s = 0
    for j in range(r) {
        let x = step(0)
        for i in range(n - 1) {
            x = step(x)
        }
        s = s + get(x)
    }
    return s
}
`

// BenchmarkClusterFusedChain runs chains of 1,000 fused tasks from a
// driver on a head and two nodes over loopback: ns/op is one call of a
// chain (the issue 10 benchmark's unit), allocs/op what one call costs
// the whole cluster.
func BenchmarkClusterFusedChain(b *testing.B) {
	lc := startLineageBenchCluster(b, 2, "stash", 0, 0)
	lc.run(b, "warm", fusedChainSource, "main", exec.Kwarg{Name: "r", Value: exec.Int(2)})
	rounds := max(b.N/1000, 1)
	b.ResetTimer()
	lc.run(b, "bench", fusedChainSource, "main", exec.Kwarg{Name: "r", Value: exec.Int(int64(rounds))})
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(rounds), "µs/chain")
}
