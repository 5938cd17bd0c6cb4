package serve

import (
	"testing"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/exec"
)

// An ingress sends requests to its own node's replicas first, the least
// loaded of them, while one has fewer than localQueue outstanding; then
// to the least loaded anywhere; and to other nodes' replicas at once
// when it has none.
func TestPickLocalFirst(t *testing.T) {
	d := &deployment{class: &exec.ActorClass{Info: &compiler.Actor{Concurrency: 1}}}
	local1, local2, remote := &replica{name: "l1"}, &replica{name: "l2"}, &replica{name: "r"}
	local1.local.Store(true)
	local2.local.Store(true)
	d.replicas = []*replica{remote, local1, local2}
	counts := map[string]int{}
	for range 4 { // localQueue is 2 per local replica
		counts[d.pick(nil).name]++
	}
	if counts["l1"] != 2 || counts["l2"] != 2 {
		t.Fatalf("the first 4 requests went to %v, want 2 to each local replica", counts)
	}
	if r := d.pick(nil); r != remote {
		t.Fatalf("with both local replicas at their queue, a request went to %s, want the remote one", r.name)
	}
	local2.outstanding.Add(-2) // local2 answered
	if r := d.pick(nil); r != local2 {
		t.Fatalf("a request went to %s, want local2 (free again)", r.name)
	}
	only := &deployment{class: d.class, replicas: []*replica{{name: "a"}, {name: "b"}}}
	if a, b := only.pick(nil), only.pick(nil); a == b {
		t.Fatalf("with no local replica, two requests went to %s twice, want the least loaded", a.name)
	}
}
