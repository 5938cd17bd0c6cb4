package placement

import (
	"fmt"
	"testing"
)

// A long-lived Planner keeps its reservations from one placement to the
// next until the node reports again: Report replaces the node's state and
// so releases what was reserved on it. A node it has not seen is added.
func TestPlannerReportReleasesReservations(t *testing.T) {
	p := NewPlanner(nil)
	p.Report(node("a", "cpu=2"))
	p.Report(node("b", "cpu=2"))
	place := func() Decision {
		t.Helper()
		d, err := p.Place(Request{TaskID: "t", Demand: spec("cpu=1")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var got []string
	for range 5 {
		d := place()
		got = append(got, fmt.Sprintf("%s/%v", d.Node, d.Queued))
	}
	// Four free cpus are taken once each; the fifth request queues.
	if want := "a/false b/false a/false b/false a/true"; fmt.Sprint(got) != "["+want+"]" {
		t.Fatalf("placements %v, want [%s]", got, want)
	}
	if a, _ := p.Node("a"); a.Available.CPU() != 0 || a.Running != 2 || a.QueueLen != 1 {
		t.Fatalf("a after the burst: %+v", a)
	}

	// b reports two free cpus again: its reservations are released, and
	// the next two requests run there; a's stay.
	p.Report(node("b", "cpu=2"))
	for range 2 {
		if d := place(); d.Node != "b" || d.Queued {
			t.Fatalf("after b reported: placed %+v, want b with room", d)
		}
	}
	if d := place(); !d.Queued {
		t.Fatalf("with every reported cpu reserved: %+v, want queued", d)
	}

	// A node reported for the first time joins the planner.
	p.Report(node("c", "cpu=1"))
	if d := place(); d.Node != "c" || d.Queued {
		t.Fatalf("after c joined: placed %+v, want c with room", d)
	}
	if _, ok := p.Node("d"); ok {
		t.Fatal("Node reports a node never seen")
	}
	if n := len(p.Snapshot().Nodes); n != 3 {
		t.Fatalf("snapshot has %d nodes, want 3", n)
	}
}

// Two tasks sharing a 100 MiB argument both go to the smaller, busier node
// that holds it, in one batch: the first's reservation leaves room for the
// second there, and locality outweighs the free share elsewhere.
func TestPlannerKeepsSharedArgumentLocal(t *testing.T) {
	const MiB = 1 << 20
	p := NewPlanner(&Snapshot{Nodes: []NodeState{
		node("a", "cpu=4"), busy(node("holder", "cpu=3"), "cpu=1", 0), node("z", "cpu=4")}})
	arg := map[string]int64{"holder": 100 * MiB}
	plan := p.Plan([]Request{
		{TaskID: "t1", Demand: spec("cpu=1"), ArgBytes: arg},
		{TaskID: "t2", Demand: spec("cpu=1"), ArgBytes: arg},
		{TaskID: "t3", Demand: spec("cpu=1")},
	})
	for i, want := range []string{"holder", "holder", "a"} {
		pl := plan.Placements[i]
		if pl.Err != nil || pl.Decision.Node != want || pl.Decision.Queued {
			t.Errorf("%s: %+v %v, want %s with room", pl.Request.TaskID, pl.Decision, pl.Err, want)
		}
	}
	// A third sharer finds the holder full: a node with room now beats
	// waiting for the holder, whatever the locality.
	if d, err := p.Place(Request{TaskID: "t4", Demand: spec("cpu=1"), ArgBytes: arg}); err != nil || d.Node == "holder" || d.Queued {
		t.Errorf("t4 with the holder full: %+v %v", d, err)
	}
}
