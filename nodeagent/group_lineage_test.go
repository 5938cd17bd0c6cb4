package nodeagent_test

import (
	"testing"

	"github.com/rayflow/rayflow/nodeagent"
)

// A group keeps one lineage record, not one per call: a fused chain of
// 300 calls and 1,000 calls batched 128 at a time add a record per
// group (plus the chain's seed call, which goes alone).
func TestGroupKeepsOneLineageRecord(t *testing.T) {
	for _, c := range []struct {
		name, src, opt string
		want           string
		records        uint64
	}{
		{"fuse", fusedChain, "fuse", "310", 2},
		{"batch", batchedCalls, "batch", "2997", 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, CPUs: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Shutdown("test over")
			if got := runWithOpt(t, cluster, c.src, c.opt).String(); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			if added := cluster.LineageStats().Added; added != c.records {
				t.Errorf("the run added %d lineage records, want %d (one per group)", added, c.records)
			}
		})
	}
}
