package nodeagent_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Concurrent placements never take the same free slot: with 4 cpus free
// and 8 one-cpu requests at once, exactly 4 are placed with room, no node
// more than it has free, and 4 queue; a heartbeat then releases the
// reservations on its node. Repeated, so that the placements overlap.
func TestConcurrentPlacementsNeverShareAFreeSlot(t *testing.T) {
	st, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := nodeagent.NewMembership(st, time.Hour)
	t.Cleanup(m.Close)
	total := map[string]float64{"cpu": 4}
	free := map[string]float64{"cpu": 2} // two of four in use on each
	epochs := map[string]uint64{}
	for _, id := range []string{"a", "b"} {
		e, err := m.Register(id, "addr-"+id, total, false)
		if err != nil {
			t.Fatal(err)
		}
		epochs[id] = e
	}
	report := func(id string) {
		t.Helper()
		if err := m.Heartbeat(id, epochs[id], free, 0, 2, 0); err != nil {
			t.Fatal(err)
		}
	}
	const requests, rounds = 8, 200
	req := placement.Request{TaskID: "t", Demand: resources.MustParseSpec("cpu=1")}
	for round := range rounds {
		report("a")
		report("b")
		var wg sync.WaitGroup
		start := make(chan struct{})
		decisions := make([]placement.Decision, requests)
		errs := make([]error, requests)
		for i := range requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				decisions[i], _, errs[i] = m.Place(req)
			}()
		}
		close(start)
		wg.Wait()
		withRoom := map[string]int{}
		queued := 0
		for i, d := range decisions {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if d.Queued {
				queued++
			} else {
				withRoom[d.Node]++
			}
		}
		if withRoom["a"] != 2 || withRoom["b"] != 2 || queued != 4 {
			t.Fatalf("round %d: placed with room %v and %d queued; want 2 on a, 2 on b (their free cpus) and 4 queued",
				round, withRoom, queued)
		}
	}

	// a's fresh heartbeat releases what was reserved on it (b's stay).
	report("a")
	for i := range 2 {
		d, _, err := m.Place(req)
		if err != nil || d.Node != "a" || d.Queued {
			t.Fatalf("placement %d after a reported: %+v %v, want a with room", i, d, err)
		}
	}
	if d, _, _ := m.Place(req); !d.Queued {
		t.Fatalf("with every reported cpu reserved: %+v, want queued", d)
	}
	snap := m.Snapshot()
	for _, n := range snap.Nodes {
		if n.Available.CPU() != 0 {
			t.Errorf("node %s: %s free after its cpus were reserved", n.ID, fmt.Sprint(n.Available))
		}
	}
}
