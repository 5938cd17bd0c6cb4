package placement

import "testing"

// A preferred node with room wins over a freer node; a full one gets
// the task to queue; a dead, too small, avoided or unknown one is
// ignored.
func TestPlacePreferredNode(t *testing.T) {
	nodes := []NodeState{node("a", "cpu=16"), busy(node("b", "cpu=4"), "cpu=3", 2), node("c", "cpu=1")}
	for _, tc := range []struct {
		name   string
		req    Request
		want   string
		queued bool
	}{
		{"no hint: the freest node", Request{Demand: spec("cpu=1")}, "a", false},
		{"preferred with room", Request{Demand: spec("cpu=1"), Prefer: "b"}, "b", false},
		{"preferred but full: queue there", Request{Demand: spec("cpu=2"), Prefer: "b"}, "b", true},
		{"preferred is the origin that found no room", Request{Demand: spec("cpu=1"), Prefer: "b", Origin: "b"}, "b", true},
		{"preferred but too small", Request{Demand: spec("cpu=2"), Prefer: "c"}, "a", false},
		{"preferred but avoided", Request{Demand: spec("cpu=1"), Prefer: "b", Avoid: []string{"b"}}, "a", false},
		{"preferred unknown", Request{Demand: spec("cpu=1"), Prefer: "zz"}, "a", false},
	} {
		d, err := Place(tc.req, &Snapshot{Nodes: nodes})
		if err != nil || d.Node != tc.want || d.Queued != tc.queued {
			t.Errorf("%s: %+v %v, want %s (queued %v)", tc.name, d, err, tc.want, tc.queued)
		}
	}
	dead := []NodeState{node("a", "cpu=4"), dead(node("b", "cpu=4"))}
	if d, err := Place(Request{Demand: spec("cpu=1"), Prefer: "b"}, &Snapshot{Nodes: dead}); err != nil || d.Node != "a" {
		t.Errorf("preferred node dead: %+v %v, want a", d, err)
	}
}

// A Planner places the calls of one spread key round-robin over the
// nodes with room, whatever their scores, and keys do not interfere.
func TestPlannerSpreadsRoundRobin(t *testing.T) {
	p := NewPlanner(&Snapshot{Nodes: []NodeState{node("c", "cpu=2"), node("a", "cpu=64"), node("b", "cpu=2"), dead(node("d", "cpu=64"))}})
	var got []string
	for range 6 {
		d, err := p.Place(Request{Demand: spec("cpu=0.1"), Spread: "site1"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Node)
	}
	if want := "a b c a b c"; join(got) != want {
		t.Errorf("spread placements %s, want %s", join(got), want)
	}
	d, _ := p.Place(Request{Demand: spec("cpu=0.1"), Spread: "site2"})
	if d.Node != "a" {
		t.Errorf("a second key starts at %s, want a", d.Node)
	}
	// A full node is skipped; with no room anywhere the task queues as usual.
	q := NewPlanner(&Snapshot{Nodes: []NodeState{node("a", "cpu=1"), busy(node("b", "cpu=1"), "cpu=1", 0), node("c", "cpu=1")}})
	var seq []string
	for range 3 {
		d, err := q.Place(Request{Demand: spec("cpu=1"), Spread: "s"})
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, d.Node+map[bool]string{true: "(queued)"}[d.Queued])
	}
	if want := "a c a(queued)"; join(seq) != want {
		t.Errorf("spread over full nodes %s, want %s", join(seq), want)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
