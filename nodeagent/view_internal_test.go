package nodeagent

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// The local view picks the node with the most of a demand free, counts
// what it sent until released, queues where this process has the least
// in flight per CPU once none has room, and leaves to the head what no
// node could hold, the origin, and dead nodes.
func TestLocalViewPick(t *testing.T) {
	var v localView
	v.refresh([]wire.ViewNode{
		{ID: "a", Addr: "A", Total: map[string]float64{"cpu": 2}, Available: map[string]float64{"cpu": 2}},
		{ID: "b", Addr: "B", Total: map[string]float64{"cpu": 1}, Available: map[string]float64{"cpu": 1}},
	})
	alive := func(string) bool { return false }
	one := resources.MustParseSpec("cpu=1")
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, v.pick(one, "", alive))
	}
	// a, then a or b with 1 free each (a first: ties keep the first),
	// then queued by load per CPU: a 2/2, b 1/1 -> a, b, a, b ...
	if want := "A A B A B A"; strings.Join(got, " ") != want {
		t.Errorf("picked %s, want %s", strings.Join(got, " "), want)
	}
	if addr := v.pick(resources.MustParseSpec("cpu=3"), "", alive); addr != "" {
		t.Errorf("a demand no node holds went to %q; want the head asked", addr)
	}
	if addr := v.pick(one, "a", func(addr string) bool { return addr == "B" }); addr != "" {
		t.Errorf("with the origin left out and the other node dead, picked %q", addr)
	}
	for _, addr := range got {
		v.release(addr, one)
	}
	if len(v.inflight) != 0 {
		t.Errorf("after every release %v is still in flight", v.inflight)
	}
	// A view read while this process has tasks on a node counts them as
	// its own, not as someone else's load.
	v.pick(one, "", alive) // A
	v.refresh([]wire.ViewNode{{ID: "a", Addr: "A", Total: map[string]float64{"cpu": 2}, Available: map[string]float64{"cpu": 1}}})
	if addr := v.pick(one, "", alive); addr != "A" || !v.nodes[0].base.Equal(resources.MustParseSpec("cpu=2")) {
		t.Errorf("after a refresh picked %q with base %v; want A with cpu=2", addr, v.nodes[0].base)
	}
}
