package nodeagent_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Tasks that take a 100 MB argument run on the node that holds it, not on
// the nodes with more room, and nothing moves: the driver reports where
// the argument lives and its size when it spills the tasks, the global
// scheduler's locality score picks its holder, and the holder reads the
// argument in place.
func TestTasksRunWhereTheirLargeArgumentLives(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 100 MB")
	}
	// worker-b holds the argument (only it has "holder") and has the
	// least room: without locality the tasks would go to head or worker-a.
	head, workers, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 4, NodeID: "head"},
		nodeagent.Config{CPUs: 4, NodeID: "worker-a"},
		nodeagent.Config{CPUs: 3, NodeID: "worker-b", Resources: map[string]float64{"holder": 1}})
	procs := append([]*nodeagent.Cluster{head.Cluster, driver}, workers...)

	err := runOn(t, driver, `
@resources(cpu=1, holder=1)
task make(n) { return nd.full([n], 2.0) }
@resources(cpu=1)
task total(t) { return [sys.node(), nd.sum(t)] }
pipeline main() {
    let big = make(12500000)
    for r in get([total(big), total(big)]) { print(r[0], r[1]) }
}`)
	if err != nil {
		t.Fatal(rayflow.FormatError(err, ""))
	}
	want := "worker-b 25000000.0\nworker-b 25000000.0"
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("printed:\n%s\nwant (both tasks where the argument lives):\n%s", got, want)
	}
	for _, c := range procs {
		if n := nodeagent.ObjectsFetched(c); n != 0 {
			t.Errorf("the process of %s fetched %d objects, want none", c.Head().ID, n)
		}
	}
}

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
	m := head.NewMembership(st, time.Hour)
	t.Cleanup(m.Close)
	total := map[string]float64{"cpu": 4}
	free := map[string]float64{"cpu": 2} // two of four in use on each
	epochs := map[string]uint64{}
	for _, id := range []string{"a", "b"} {
		e, err := m.Register(id, "addr-"+id+":1", total, false)
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

// BenchmarkMembershipPlace measures the head's placement of one request
// against 1000 registered nodes, reservation included.
func BenchmarkMembershipPlace(b *testing.B) {
	st, err := gcs.Open(gcs.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := head.NewMembership(st, time.Hour)
	defer m.Close()
	for i := range 1000 {
		if _, err := m.Register(fmt.Sprintf("node-%04d", i), fmt.Sprintf("addr-%d:1", i), map[string]float64{"cpu": 8}, false); err != nil {
			b.Fatal(err)
		}
	}
	req := placement.Request{TaskID: "t", Demand: resources.MustParseSpec("cpu=1")}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Place(req); err != nil {
			b.Fatal(err)
		}
	}
}
