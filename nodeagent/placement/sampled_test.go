package placement

import (
	"fmt"
	"testing"
)

// cpuNodes returns n alive nodes of cpus CPUs each, all free.
func cpuNodes(n, cpus int) []NodeState {
	nodes := make([]NodeState, n)
	for i := range nodes {
		nodes[i] = node(fmt.Sprintf("n%05d", i), fmt.Sprintf("cpu=%d", cpus))
	}
	return nodes
}

// On a large cluster the global scheduler looks at a bounded sample of
// nodes per placement, not at every node: the nodes looked at per task
// stay about the same from 1,000 to 8,000 nodes, through a burst that
// fills every CPU, queues as many tasks again, and heartbeats that free
// nodes in between. (Ranking every node made placements/s fall tenfold
// from 100 to 1,000 simulated nodes; see nodeagent/sim.)
func TestSampledPlacementLooksAtABoundedSample(t *testing.T) {
	perTask := map[int]float64{}
	for _, n := range []int{1000, 8000} {
		nodes := cpuNodes(n, 4)
		p := NewPlanner(&Snapshot{Nodes: nodes})
		tasks := 0
		for round := range 3 {
			for range 2 * 4 * n {
				if _, err := p.Place(Request{TaskID: "t", Demand: spec("cpu=1")}); err != nil {
					t.Fatal(err)
				}
				tasks++
			}
			// A tenth of the nodes report all their CPUs free again.
			for i := round; i < n; i += 10 {
				p.Report(nodes[i])
			}
		}
		perTask[n] = float64(p.looked) / float64(tasks)
	}
	t.Logf("nodes looked at per task: %v", perTask)
	for n, v := range perTask {
		if v > 4*SampleSize {
			t.Errorf("%d nodes: %.1f nodes looked at per task, want at most %d", n, v, 4*SampleSize)
		}
	}
	if perTask[8000] > 1.5*perTask[1000] {
		t.Errorf("nodes looked at per task grew with the cluster: %v", perTask)
	}
}

// Sampling never queues a task while some node has its demand free: a
// burst takes every free CPU once, the next task queues, and a node that
// reports free CPUs again gets the task after that, wherever it is.
func TestSampledPlacementQueuesOnlyWhenNoNodeHasRoom(t *testing.T) {
	nodes := cpuNodes(1000, 1)
	p := NewPlanner(&Snapshot{Nodes: nodes})
	place := func() Decision {
		t.Helper()
		d, err := p.Place(Request{TaskID: "t", Demand: spec("cpu=1")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	got := map[string]int{}
	for range len(nodes) {
		d := place()
		if d.Queued {
			t.Fatalf("task %d queued on %s while nodes had room", len(got), d.Node)
		}
		got[d.Node]++
	}
	if len(got) != len(nodes) {
		t.Fatalf("%d tasks went to %d nodes, want one on each", len(nodes), len(got))
	}
	if d := place(); !d.Queued {
		t.Fatalf("a task beyond every free CPU was not queued: %+v", d)
	}
	for _, i := range []int{737, 3} {
		p.Report(nodes[i])
		if d := place(); d.Queued || d.Node != nodes[i].ID {
			t.Fatalf("after %s reported a free CPU the task went to %+v", nodes[i].ID, d)
		}
		if d := place(); !d.Queued {
			t.Fatalf("a task beyond every free CPU was not queued: %+v", d)
		}
	}
}

// What sampling remembers of a demand no node had free is not what one
// origin saw: the only node with room, passed over for the task it
// spilled itself, still gets the same demand spilled from another node.
func TestSampledPlacementNoRoomIsNotPerOrigin(t *testing.T) {
	nodes := cpuNodes(1000, 1)
	for i := range nodes {
		if i != 500 {
			nodes[i].Available = spec("cpu=0")
		}
	}
	p := NewPlanner(&Snapshot{Nodes: nodes})
	from := func(origin string) Decision {
		t.Helper()
		d, err := p.Place(Request{TaskID: "t", Demand: spec("cpu=1"), Origin: origin})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := from(nodes[500].ID); !d.Queued {
		t.Fatalf("a task spilled by the only node with room went to %+v, want queued elsewhere", d)
	}
	if d := from(nodes[1].ID); d.Queued || d.Node != nodes[500].ID {
		t.Fatalf("a task spilled by %s went to %+v, want %s (it has room)", nodes[1].ID, d, nodes[500].ID)
	}
}
