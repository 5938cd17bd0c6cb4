package nodeagent

import (
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// The argument locations of a place request survive the wire, and a
// damaged or oversized list is refused, not trusted.
func TestPlaceRequestArgBytesOnTheWire(t *testing.T) {
	held := []argBytesAt{{Addr: "10.0.0.1:7000", Bytes: 100 << 20}, {Addr: "10.0.0.2:7000", Bytes: 5000}}
	w := &codec.Encoder{}
	writeArgBytes(w, held)
	writeArgBytes(w, nil)
	r := codec.NewDecoder(w.Bytes())
	if got := readArgBytes(r); r.Err() != nil || !reflect.DeepEqual(got, held) {
		t.Fatalf("read %+v, %v; want %+v", got, r.Err(), held)
	}
	if got := readArgBytes(r); r.Err() != nil || got != nil || r.Remaining() != 0 {
		t.Fatalf("empty list read as %+v, %v (%d bytes left)", got, r.Err(), r.Remaining())
	}

	for name, b := range map[string][]byte{
		"truncated":   w.Bytes()[:w.Len()/2],
		"oversized":   append([]byte{1, 1, 'a'}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
		"bogus count": {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 'a', 1},
	} {
		r := codec.NewDecoder(b)
		if got := readArgBytes(r); r.Err() == nil {
			t.Errorf("%s: read %+v without an error", name, got)
		}
	}
}

// A spilled task's request carries its argument bytes to the head's
// planner, keyed by the node registered at each address; bytes held by a
// process that is no node (a driver) do not count.
func TestPlaceBatchKeysArgumentsByNode(t *testing.T) {
	m := NewMembership(openStore(t), 0)
	defer m.Close()
	for _, id := range []string{"a", "b"} {
		if _, err := m.Register(id, "addr-"+id, map[string]float64{"cpu": 4}, false); err != nil {
			t.Fatal(err)
		}
	}
	one := resources.MustParseSpec("cpu=1")
	res := m.placeBatch([]placeRequest{
		{Name: "t1", Demand: one, ArgBytes: []argBytesAt{{Addr: "addr-b", Bytes: 100 << 20}, {Addr: "driver", Bytes: 1 << 30}}},
		{Name: "t2", Demand: one},
	})
	if res[0].Node != "b" || res[0].Addr != "addr-b" || res[0].Queued || res[0].Err != nil {
		t.Errorf("t1 with its argument on b: %+v", res[0])
	}
	if res[1].Node != "a" || res[1].Err != nil {
		t.Errorf("t2 without arguments: %+v, want a (more free after t1's reservation)", res[1])
	}
	if got := m.argBytesLocked([]argBytesAt{{Addr: "addr-a", Bytes: 1 << 62}, {Addr: "addr-a", Bytes: 1 << 62}}); got["a"] <= 0 {
		t.Errorf("summed sizes overflowed: %v", got)
	}
}
