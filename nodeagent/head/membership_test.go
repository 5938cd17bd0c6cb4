package head

import (
	"errors"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

func openStore(t *testing.T) *gcs.Store {
	t.Helper()
	st, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A node that stops sending heartbeats is marked dead in the GCS, and
// its stale heartbeats are refused afterwards.
func TestSilentNodeIsMarkedDead(t *testing.T) {
	st := openStore(t)
	m := NewMembership(st, 200*time.Millisecond)
	defer m.Close()
	e1, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Register("b", "127.0.0.1:2", map[string]float64{"cpu": 2}, false); err != nil {
		t.Fatal(err)
	}
	// b beats at every poll, a never does.
	testutil.Eventually(t, 3*time.Second, "node a marked dead", func() bool {
		m.Heartbeat("b", 2, map[string]float64{"cpu": 2}, 0, 0, 0)
		info, err := st.GetNode("a")
		return err == nil && info.State == gcs.NodeDead
	})
	if info, _ := st.GetNode("b"); info.State != gcs.NodeAlive {
		t.Fatalf("node b, which kept beating, is %s", info.State)
	}
	if err := m.Heartbeat("a", e1, map[string]float64{"cpu": 2}, 0, 0, 0); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("heartbeat from a dead node's old epoch: %v, want ErrStaleEpoch", err)
	}
	e3, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 2}, false)
	if err != nil || e3 <= e1 {
		t.Fatalf("re-register: epoch %d (was %d), %v", e3, e1, err)
	}
	if err := m.Heartbeat("a", e3, map[string]float64{"cpu": 2}, 0, 0, 0); err != nil {
		t.Fatalf("heartbeat after re-register: %v", err)
	}
}

// Place reserves what it placed, so a burst is spread over the nodes.
func TestPlaceSpreadsABurst(t *testing.T) {
	st := openStore(t)
	m := NewMembership(st, time.Minute)
	defer m.Close()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := m.Register(id, "addr-"+id+":1", map[string]float64{"cpu": 2}, false); err != nil {
			t.Fatal(err)
		}
	}
	count := map[string]int{}
	for i := 0; i < 6; i++ {
		d, addr, err := m.Place(placement.Request{TaskID: "t", Demand: resources.MustParseSpec("cpu=1")})
		if err != nil {
			t.Fatal(err)
		}
		if addr != "addr-"+d.Node+":1" {
			t.Fatalf("address %s for node %s", addr, d.Node)
		}
		count[d.Node]++
	}
	for _, id := range []string{"a", "b", "c"} {
		if count[id] != 2 {
			t.Fatalf("placements %v; want 2 on each node", count)
		}
	}
}
