package head

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A head refuses to store a program larger than MaxProgramBytes, and
// stores one just under it.
func TestServiceCapsProgramSize(t *testing.T) {
	svc := NewService(newTestStoreAndMembership(t))
	big := append([]byte{wire.GCSPutProgram}, bytes.Repeat([]byte("x"), MaxProgramBytes+1)...)
	if _, err := svc.HandleGCS("n1", big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("a program over the cap: %v", err)
	}
	if _, err := svc.HandleGCS("n1", big[:len(big)-1]); err != nil {
		t.Fatalf("a program at the cap: %v", err)
	}
}

// A node must register with an ID that can be shown and used as a
// directory name, and an address others can dial.
func TestRegisterValidatesIDAndAddress(t *testing.T) {
	_, m := newTestStoreAndMembership(t)
	for _, c := range []struct{ id, addr string }{
		{"", "127.0.0.1:1"}, {"../etc", "127.0.0.1:1"}, {"a b", "127.0.0.1:1"}, {"\x1b[31mred", "127.0.0.1:1"}, {strings.Repeat("n", 65), "127.0.0.1:1"},
		{"n1", ""}, {"n1", "127.0.0.1"}, {"n1", ":80"}, {"n1", "0.0.0.0:80"}, {"n1", "127.0.0.1:0"}, {"n1", "127.0.0.1:99999"},
	} {
		if _, err := m.Register(c.id, c.addr, map[string]float64{"cpu": 1}, false); err == nil {
			t.Errorf("registered id %q at %q", c.id, c.addr)
		}
	}
	if _, err := m.Register("node-1.a_b", "host.example:7000", map[string]float64{"cpu": 1}, false); err != nil {
		t.Errorf("a good node: %v", err)
	}
}

// newTestStoreAndMembership opens a one-replica GCS in memory and a
// membership table on it, closed at the end of the test.
func newTestStoreAndMembership(t *testing.T) (*gcs.Store, *Membership) {
	t.Helper()
	st, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := NewMembership(st, time.Minute)
	t.Cleanup(m.Close)
	return st, m
}

// The cache of parsed demands holds at most maxCachedDemands: a peer
// sending ever new resource maps cannot grow it, and a demand not cached
// is still placed.
func TestDemandCacheIsBounded(t *testing.T) {
	svc := NewService(newTestStoreAndMembership(t))
	if _, err := svc.members.Register("n1", "127.0.0.1:1", map[string]float64{"cpu": 4, "memory": 1 << 30}, false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxCachedDemands+100; i++ {
		d, err := resources.FromMap(map[string]float64{"cpu": 1, "memory": float64(1024 * (i + 1))})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := svc.HandlePlace(wire.EncodePlaceRequests([]wire.PlaceRequest{{Name: "t", Demand: d}}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := wire.DecodePlaceResults(reply.Payload, 1)
		if err != nil || res[0].Err != nil || res[0].Node != "n1" {
			t.Fatalf("demand %d: %+v %v", i, res, err)
		}
	}
	if n := svc.demands.len(); n != maxCachedDemands {
		t.Fatalf("%d demands cached, want the cap %d", n, maxCachedDemands)
	}
}

// A registration saying "head" makes a head only of a node that holds a
// GCS replica; a heartbeat about another node than its sender's is
// refused.
func TestOnlyReplicasAreHeads(t *testing.T) {
	st, m := newTestStoreAndMembership(t)
	svc := NewService(st, m)
	servers, err := st.Servers()
	if err != nil || len(servers) != 1 {
		t.Fatalf("replicas: %v %v", servers, err)
	}
	replica := servers[0]
	register := func(id, addr string) {
		t.Helper()
		if _, err := svc.HandleGCS(id, append([]byte{wire.GCSRegister}, wire.EncodeRegister(id, addr, map[string]float64{"cpu": 1}, true)...)); err != nil {
			t.Fatal(err)
		}
	}
	register("pretender", "127.0.0.1:2")
	register(replica, "127.0.0.1:1")
	if heads := m.Heads(); len(heads) != 1 || heads[0] != "127.0.0.1:1" {
		t.Fatalf("heads: %v", heads)
	}
	hb := wire.EncodeHeartbeat(replica, 2, placement.NodeState{}, 0)
	if err := svc.HandleHeartbeat("pretender", hb); !errors.Is(err, ErrNotSender) {
		t.Fatalf("a heartbeat for another node: %v", err)
	}
	if _, err := svc.HandleGCS("pretender", append([]byte{wire.GCSForward}, 0)); err == nil {
		t.Fatal("GCS forwarding served for a node that holds no replica")
	}
}
