package head

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A spilled task's request carries its argument bytes to the head's
// planner, keyed by the node registered at each address; bytes held by a
// process that is no node (a driver) do not count.
func TestPlaceBatchKeysArgumentsByNode(t *testing.T) {
	m := NewMembership(openStore(t), 0)
	defer m.Close()
	for _, id := range []string{"a", "b"} {
		if _, err := m.Register(id, "addr-"+id+":1", map[string]float64{"cpu": 4}, false); err != nil {
			t.Fatal(err)
		}
	}
	one := resources.MustParseSpec("cpu=1")
	res := m.PlaceBatch([]wire.PlaceRequest{
		{Name: "t1", Demand: one, ArgBytes: []wire.ArgBytesAt{{Addr: "addr-b:1", Bytes: 100 << 20}, {Addr: "driver", Bytes: 1 << 30}}},
		{Name: "t2", Demand: one},
	})
	if res[0].Node != "b" || res[0].Addr != "addr-b:1" || res[0].Queued || res[0].Err != nil {
		t.Errorf("t1 with its argument on b: %+v", res[0])
	}
	if res[1].Node != "a" || res[1].Err != nil {
		t.Errorf("t2 without arguments: %+v, want a (more free after t1's reservation)", res[1])
	}
	if got := m.argBytesLocked([]wire.ArgBytesAt{{Addr: "addr-a:1", Bytes: 1 << 62}, {Addr: "addr-a:1", Bytes: 1 << 62}}); got["a"] <= 0 {
		t.Errorf("summed sizes overflowed: %v", got)
	}
}

// A placement hint reaches the head's planner: a preferred address is
// the node registered there, and a spread key's calls go round-robin.
func TestPlaceBatchHonoursPlacementHints(t *testing.T) {
	m := NewMembership(openStore(t), 0)
	defer m.Close()
	for id, cpus := range map[string]float64{"a": 8, "b": 2, "c": 2} {
		if _, err := m.Register(id, "addr-"+id+":1", map[string]float64{"cpu": cpus}, false); err != nil {
			t.Fatal(err)
		}
	}
	tiny := resources.MustParseSpec("cpu=0.1")
	res := m.PlaceBatch([]wire.PlaceRequest{
		{Name: "p", Demand: tiny, Prefer: "addr-c:1"},
		{Name: "s1", Demand: tiny, Spread: "site"},
		{Name: "s2", Demand: tiny, Spread: "site"},
		{Name: "s3", Demand: tiny, Spread: "site"},
		{Name: "q", Demand: tiny, Prefer: "driver"},
	})
	got := []string{}
	for _, r := range res {
		if r.Err != nil || r.Queued {
			t.Fatalf("%+v", r)
		}
		got = append(got, r.Node)
	}
	if want := "c a b c a"; strings.Join(got, " ") != want {
		t.Errorf("placed on %v, want %s (preferred c; spread a, b, c; an unknown address prefers nothing)", got, want)
	}
}
