package head

import (
	"errors"
	"fmt"
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

// Dead members are forgotten: past MaxDeadMembers the longest dead go
// first, and every one dead for DeadRetention; the global scheduler and
// the GCS nodes table forget them too, and a forgotten node that comes
// back must register again.
func TestDeadMembersAreForgotten(t *testing.T) {
	st := openStore(t)
	m := NewMembership(st, time.Hour)
	defer m.Close()
	n := MaxDeadMembers + 5
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("n%05d", i)
		e, err := m.Register(id, fmt.Sprintf("127.0.0.1:%d", 1000+i), map[string]float64{"cpu": 1}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Leave(id, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Register("alive", "127.0.0.1:1", map[string]float64{"cpu": 1}, false); err != nil {
		t.Fatal(err)
	}
	gone := m.forgetDead(time.Now())
	if len(gone) != 5 || gone[0] != "n00000" || gone[4] != "n00004" {
		t.Fatalf("forgotten past the cap: %v", gone)
	}
	if got := len(m.All()); got != MaxDeadMembers+1 {
		t.Fatalf("%d members listed, want %d dead and 1 alive", got, MaxDeadMembers)
	}
	if err := m.Heartbeat("n00000", 1, map[string]float64{"cpu": 1}, 0, 0, 0); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("a heartbeat from a forgotten node: %v", err)
	}
	gone = m.forgetDead(time.Now().Add(DeadRetention + time.Second))
	if len(gone) != MaxDeadMembers {
		t.Fatalf("forgotten after the retention: %d", len(gone))
	}
	if all := m.All(); len(all) != 1 || all[0].ID != "alive" {
		t.Fatalf("members left: %v", all)
	}
	if nodes := m.Snapshot().Nodes; len(nodes) != 1 || nodes[0].ID != "alive" {
		t.Fatalf("the scheduler still holds %d nodes", len(nodes))
	}
	if _, _, err := m.Place(placement.Request{TaskID: "t", Demand: resources.Resources{}}); err != nil {
		t.Fatalf("placing after forgetting: %v", err)
	}
}
