package nodeagent_test

import (
	"context"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// bigValues makes large values on the cluster's nodes and checks, in the
// driver that fetches them, that every one arrives equal: tensors of odd
// sizes (one past the 64 MiB a decoder allocates ahead of untrusted
// bytes), an empty one, and lists of long strings.
const bigValues = `
task tensor(n: int) { return nd.arange(n) }
task strings(n: int) { return [str.repeat("ab", n), n, str.repeat("c", 3)] }
@resources(cpu=0, rh=1)
task full(n: int, x: float) { return nd.full([n], x) }
@resources(cpu=0, r1=1)
task minmax(box: list) -> list {
    let t = get(box[0])
    return [nd.min(t), nd.max(t)]
}
pipeline main() {
    # tensors of one size class made on the head and read on n1, one
    # after the other: with a token each may land in the memory of one
    # read before it (objstore.Buffers; 64 MB, so that collecting for the
    # pool pays in this process's heap)
    for i in range(8) {
        let f = full(8000001, i + 0.5)
        let m = get(minmax([f]))
        if m[0] != i + 0.5 or m[1] != i + 0.5 { fail("tensor " + str(i) + " holds another's bytes: " + str(m)) }
    }
    for n in [0, 1, 131073, 9000001] {
        let t = get(tensor(n))
        if nd.size(t) != n { fail("tensor of " + str(n) + ": size " + str(nd.size(t))) }
        if n > 0 {
            if nd.sum(t) != n * (n - 1) // 2 { fail("tensor of " + str(n) + ": wrong sum") }
            if nd.max(t) != n - 1 { fail("tensor of " + str(n) + ": wrong last value") }
        }
    }
    for n in [1, 600007] {
        let l = get(strings(n))
        if len(l[0]) != 2 * n or l[0] != str.repeat("ab", n) or l[1] != n or l[2] != "ccc" { fail("strings of " + str(n)) }
    }
    return "ok"
}`

// Large values move between processes intact, with a cluster token (the
// tensor is allocated whole and read in place, into the memory of a
// fetched tensor that died when there is one) and without (it grows as
// its bytes arrive).
func TestBigTransfersArriveEqual(t *testing.T) {
	prog, err := rayflow.Compile("big.rayflow", bigValues, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range [][]byte{nil, []byte("transfer-test-token-0123456789abcdef")} {
		head, err := nodeagent.StartHead(nodeagent.HeadConfig{Listen: "127.0.0.1:0", Node: nodeagent.Config{CPUs: 1, NodeID: "head", Token: token, Resources: map[string]float64{"rh": 1}}})
		if err != nil {
			t.Fatal(err)
		}
		node, err := nodeagent.JoinCluster([]string{head.Cluster.Address()}, "127.0.0.1:0", nodeagent.Config{CPUs: 1, NodeID: "n1", Token: token, Resources: map[string]float64{"r1": 1}})
		if err != nil {
			head.Close()
			t.Fatal(err)
		}
		driver, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{Token: token})
		if err != nil {
			node.Shutdown("done")
			head.Close()
			t.Fatal(err)
		}
		v, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: driver})
		driver.Shutdown("done")
		node.Shutdown("done")
		head.Close()
		if err != nil || v.String() != "ok" {
			t.Fatalf("token %q: %v, %v", token, v, err)
		}
		stats := objstore.Buffers.Stats()
		t.Logf("token %q: tensor buffers %+v", token, stats)
		if token != nil && stats.Hits == 0 {
			t.Errorf("no fetched tensor reused the memory of one that died: %+v", stats)
		}
	}
}
