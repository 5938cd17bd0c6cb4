package placement

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

var spec = resources.MustParseSpec

// node returns an alive, idle node with total = available = spec.
func node(id, s string) NodeState {
	r := spec(s)
	return NodeState{ID: id, Alive: true, Total: r, Available: r}
}

// busy returns n with `used` taken out of its available resources.
func busy(n NodeState, used string, queue int) NodeState {
	n.Available = n.Available.Sub(spec(used))
	n.QueueLen = queue
	return n
}

func dead(n NodeState) NodeState {
	n.Alive = false
	return n
}

func TestFeasibility(t *testing.T) {
	cases := []struct {
		name   string
		nodes  []NodeState
		req    Request
		want   string // node ID, or a substring of the error
		wantOK bool
	}{
		{
			name:   "dead nodes are skipped",
			nodes:  []NodeState{dead(node("a", "cpu=8")), node("b", "cpu=2")},
			req:    Request{TaskID: "t1", Demand: spec("cpu=1")},
			want:   "b",
			wantOK: true,
		},
		{
			name:   "a node whose total is too small is skipped even when idle",
			nodes:  []NodeState{node("a", "cpu=64"), node("b", "cpu=64,gpu=1")},
			req:    Request{TaskID: "t1", Demand: spec("gpu=1")},
			want:   "b",
			wantOK: true,
		},
		{
			name:   "custom resources must be present",
			nodes:  []NodeState{node("a", "cpu=64"), node("b", "cpu=2,disk_fast=1")},
			req:    Request{TaskID: "t1", Demand: spec("cpu=1,disk_fast=1")},
			want:   "b",
			wantOK: true,
		},
		{
			name:   "avoided nodes are skipped",
			nodes:  []NodeState{node("a", "cpu=8"), node("b", "cpu=2")},
			req:    Request{TaskID: "t1", Demand: spec("cpu=1"), Avoid: []string{"a"}},
			want:   "b",
			wantOK: true,
		},
		{
			name:   "a long avoid list is honoured too",
			nodes:  []NodeState{node("a", "cpu=8"), node("b", "cpu=2")},
			req:    Request{TaskID: "t1", Demand: spec("cpu=1"), Avoid: []string{"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "a"}},
			want:   "b",
			wantOK: true,
		},
		{
			name:  "the error names the demand and the largest node",
			nodes: []NodeState{node("n1", "cpu=1"), node("n2", "cpu=2"), dead(node("n3", "cpu=8,gpu=1"))},
			req:   Request{TaskID: "t1", Demand: spec("cpu=4,gpu=1")},
			want:  "no node can run task t1: it needs cpu=4 gpu=1; the largest node, n2, has cpu=2 gpu=0",
		},
		{
			name:  "memory in the error reads like memory",
			nodes: []NodeState{node("n1", "cpu=4,memory=1GiB")},
			req:   Request{TaskID: "t2", Demand: spec("cpu=1,memory=2GiB")},
			want:  "no node can run task t2: it needs cpu=1 memory=2.0GiB; the largest node, n1, has cpu=4 memory=1.0GiB",
		},
		{
			name:  "a missing custom resource",
			nodes: []NodeState{node("n1", "cpu=4")},
			req:   Request{TaskID: "t3", Demand: spec("tpu=1")},
			want:  "it needs tpu=1; the largest node, n1, has tpu=0",
		},
		{
			name:  "every large enough node failed the task",
			nodes: []NodeState{node("n1", "cpu=4"), node("n2", "cpu=4"), node("n3", "cpu=1")},
			req:   Request{TaskID: "t4", Demand: spec("cpu=2"), Avoid: []string{"n2", "n1"}},
			want:  "no node can run task t4: it needs cpu=2, and every alive node large enough (n1, n2) has already failed it",
		},
		{
			name:  "no node alive",
			nodes: []NodeState{dead(node("n1", "cpu=4"))},
			req:   Request{TaskID: "t5", Demand: spec("cpu=1")},
			want:  "no node can run task t5: none of the 1 nodes is alive",
		},
		{
			name: "no nodes",
			req:  Request{TaskID: "t6", Demand: spec("cpu=1")},
			want: "no node can run task t6: the cluster has no nodes",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Place(c.req, &Snapshot{Nodes: c.nodes})
			if c.wantOK {
				if err != nil || d.Node != c.want {
					t.Fatalf("Place = %+v, %v; want node %s", d, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Place = %+v; want error %q", d, c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %q\nwant it to contain %q", err, c.want)
			}
			if !errors.Is(err, ErrInfeasible) {
				t.Errorf("errors.Is(%v, ErrInfeasible) = false", err)
			}
		})
	}
}

func TestInfeasibleErrorFields(t *testing.T) {
	_, err := Place(Request{TaskID: "t1", Demand: spec("cpu=4,gpu=1")},
		&Snapshot{Nodes: []NodeState{node("n2", "cpu=2"), node("n1", "cpu=2")}})
	var ie *InfeasibleError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is not an *InfeasibleError", err)
	}
	// Equal nodes: the smaller ID is named, whatever the order.
	if ie.TaskID != "t1" || ie.Largest != "n1" || ie.LargestTotal.String() != "cpu=2" || ie.Demand.String() != "cpu=4 gpu=1" {
		t.Errorf("InfeasibleError = %+v", ie)
	}
	if _, err := Place(Request{TaskID: "t1"}, nil); err == nil || errors.Is(err, ErrInfeasible) {
		t.Errorf("Place with a nil snapshot: %v", err)
	}
}

func TestRanking(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		name   string
		nodes  []NodeState
		req    Request
		want   string
		queued bool
		reason string // substring of Decision.Reason
	}{
		{
			name:  "more free after placement wins",
			nodes: []NodeState{busy(node("a", "cpu=8"), "cpu=6", 0), busy(node("b", "cpu=8"), "cpu=2", 0)},
			req:   Request{Demand: spec("cpu=1")},
			want:  "b",
		},
		{
			name:  "free share is relative to the node's size",
			nodes: []NodeState{node("a", "cpu=2"), busy(node("b", "cpu=64"), "cpu=60", 0)},
			req:   Request{Demand: spec("cpu=1")},
			want:  "a",
		},
		{
			name:  "free is averaged over the demanded resources",
			nodes: []NodeState{busy(node("a", "cpu=8,memory=8GiB"), "memory=7GiB", 0), busy(node("b", "cpu=8,memory=8GiB"), "cpu=4", 0)},
			req:   Request{Demand: spec("cpu=1,memory=1GiB")},
			want:  "b",
		},
		{
			name:  "a shorter queue wins when free is equal",
			nodes: []NodeState{busy(node("a", "cpu=8"), "", 3), busy(node("b", "cpu=8"), "", 1)},
			req:   Request{Demand: spec("cpu=1")},
			want:  "b",
		},
		{
			name:   "locality wins when resources are equal",
			nodes:  []NodeState{node("a", "cpu=8"), node("b", "cpu=8"), node("c", "cpu=8")},
			req:    Request{Demand: spec("cpu=1"), ArgBytes: map[string]int64{"c": 1024, "b": 10}},
			want:   "c",
			reason: "locality 0.00",
		},
		{
			name:   "large arguments outweigh free resources",
			nodes:  []NodeState{busy(node("a", "cpu=8"), "cpu=6", 0), node("b", "cpu=8")},
			req:    Request{Demand: spec("cpu=1"), ArgBytes: map[string]int64{"a": 512 * MiB}},
			want:   "a",
			reason: "locality 2.00",
		},
		{
			name:  "small arguments do not pull a task onto a busy node",
			nodes: []NodeState{busy(node("a", "cpu=8"), "cpu=6", 0), node("b", "cpu=8")},
			req:   Request{Demand: spec("cpu=1"), ArgBytes: map[string]int64{"a": 4096}},
			want:  "b",
		},
		{
			name:  "more local bytes win",
			nodes: []NodeState{node("a", "cpu=8"), node("b", "cpu=8")},
			req:   Request{Demand: spec("cpu=1"), ArgBytes: map[string]int64{"a": 100 * MiB, "b": 300 * MiB}},
			want:  "b",
		},
		{
			name:   "ties go to the smallest node ID",
			nodes:  []NodeState{node("c", "cpu=8"), node("a", "cpu=8"), node("b", "cpu=8")},
			req:    Request{Demand: spec("cpu=1")},
			want:   "a",
			reason: "a has cpu=1 free now; best score 1.875 = free 0.88 + queue 1.00 + locality 0.00",
		},
		{
			name:   "cpu-only tasks keep off gpu nodes",
			nodes:  []NodeState{node("a", "cpu=8,gpu=1"), busy(node("b", "cpu=8"), "cpu=2", 0)},
			req:    Request{Demand: spec("cpu=1")},
			want:   "b",
			reason: "b has cpu=1 free now",
		},
		{
			name:   "gpu tasks are not penalised on gpu nodes",
			nodes:  []NodeState{node("a", "cpu=8,gpu=2"), busy(node("b", "cpu=8,gpu=2"), "gpu=1", 0)},
			req:    Request{Demand: spec("gpu=1")},
			want:   "a",
			reason: "a has gpu=1 free now",
		},
		{
			name:  "a task that needs nothing goes anywhere",
			nodes: []NodeState{busy(node("b", "cpu=1"), "cpu=1", 0), busy(node("a", "cpu=1"), "cpu=1", 0)},
			req:   Request{},
			want:  "a",
		},
		{
			name:  "the origin is not trusted to have room",
			nodes: []NodeState{node("a", "cpu=8"), busy(node("b", "cpu=8"), "cpu=7", 2)},
			req:   Request{Demand: spec("cpu=1"), Origin: "a"},
			want:  "b",
		},
		{
			name:   "the origin gets the task back to queue when nothing else fits",
			nodes:  []NodeState{node("a", "cpu=8"), busy(node("b", "cpu=8"), "cpu=8", 20)},
			req:    Request{Demand: spec("cpu=1"), Origin: "a"},
			want:   "a",
			queued: true,
			reason: "no feasible node has cpu=1 free now (a, which spilled the task, counts as full); queued on a",
		},
		{
			name: "when all are busy the least loaded queue wins",
			nodes: []NodeState{
				busy(node("a", "cpu=4"), "cpu=4", 5), // waits 6/4
				busy(node("b", "cpu=2"), "cpu=2", 1), // waits 2/2
				busy(node("c", "cpu=1"), "cpu=1", 0), // waits 1/1, ties with b
				node("d", "cpu=0.5"),                 // too small
			},
			req:    Request{TaskID: "t1", Demand: spec("cpu=1")},
			want:   "b",
			queued: true,
			reason: "no feasible node has cpu=1 free now; queued on b, the least loaded feasible node (queue 1, runs 2 such tasks at once)",
		},
		{
			name: "locality breaks ties between queues",
			nodes: []NodeState{
				busy(node("a", "cpu=2"), "cpu=2", 1),
				busy(node("b", "cpu=2"), "cpu=2", 1),
			},
			req:    Request{Demand: spec("cpu=1"), ArgBytes: map[string]int64{"b": 1}},
			want:   "b",
			queued: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Place(c.req, &Snapshot{Nodes: c.nodes})
			if err != nil {
				t.Fatal(err)
			}
			if d.Node != c.want || d.Queued != c.queued {
				t.Fatalf("Place = %+v; want node %s (queued %v)", d, c.want, c.queued)
			}
			if !strings.Contains(d.Reason, c.reason) {
				t.Errorf("Reason = %q\nwant it to contain %q", d.Reason, c.reason)
			}
		})
	}
}

func TestPlaceDoesNotModifyTheSnapshot(t *testing.T) {
	nodes := GenerateNodes(50, 1)
	before := fmt.Sprint(nodes)
	snap := &Snapshot{Nodes: nodes}
	for _, req := range GenerateRequests(200, 2, nodes) {
		_, _ = Place(req, snap)
	}
	p := NewPlanner(snap)
	p.Plan(GenerateRequests(200, 3, nodes))
	if after := fmt.Sprint(nodes); after != before {
		t.Error("Place or Planner modified the snapshot")
	}
}

// The number of allocations of Place must not grow with the number of nodes.
func TestPlaceAllocationsDoNotGrowWithNodes(t *testing.T) {
	req := Request{TaskID: "t", Demand: spec("cpu=1,memory=1GiB,disk_fast=1"),
		ArgBytes: map[string]int64{"node-0003": 1 << 20}, Avoid: []string{"node-0001"}}
	allocs := func(n int) float64 {
		snap := &Snapshot{Nodes: GenerateNodes(n, 7)}
		return testing.AllocsPerRun(20, func() { _, _ = Place(req, snap) })
	}
	small, large := allocs(40), allocs(2000)
	if large > small {
		t.Errorf("Place allocates %v times on 40 nodes but %v on 2000", small, large)
	}
}

func TestPlanner(t *testing.T) {
	nodes := []NodeState{node("a", "cpu=2"), node("b", "cpu=1,gpu=1")}
	p := NewPlanner(&Snapshot{Nodes: nodes})
	var got []string
	for i := range 6 {
		d, err := p.Place(Request{TaskID: fmt.Sprint("t", i), Demand: spec("cpu=1")})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%v", d.Node, d.Queued))
	}
	// Three cpus in all, then queues by estimated wait: a runs two at
	// once, so it waits 1/2, then ties b at 2/2 (a wins by ID), then 3/2.
	want := "a/false a/false b/false a/true a/true b/true"
	if strings.Join(got, " ") != want {
		t.Errorf("placements = %s\nwant         %s", strings.Join(got, " "), want)
	}
	st := p.Snapshot().Nodes
	if st[0].Available.CPU() != 0 || st[0].Running != 2 || st[0].QueueLen != 2 || st[1].QueueLen != 1 {
		t.Errorf("planner state = %+v", st)
	}
	if nodes[0].Available.CPU() != 2000 || nodes[0].QueueLen != 0 {
		t.Errorf("the planner modified its input: %+v", nodes[0])
	}
	if _, err := p.Place(Request{TaskID: "big", Demand: spec("cpu=3")}); !errors.Is(err, ErrInfeasible) {
		t.Errorf("oversized request: %v", err)
	}
}

func TestShouldSpill(t *testing.T) {
	idle := node("n", "cpu=4,gpu=1")
	cases := []struct {
		name   string
		local  NodeState
		demand string
		limit  int
		want   bool
	}{
		{"free and no queue: run here", idle, "cpu=1", 4, false},
		{"exactly free: run here", busy(idle, "cpu=3", 0), "cpu=1", 4, false},
		{"not free now: spill", busy(idle, "cpu=4", 0), "cpu=1", 4, true},
		{"queue at the limit: spill", busy(idle, "", 4), "cpu=1", 4, true},
		{"queue under the limit: run here", busy(idle, "", 3), "cpu=1", 4, false},
		{"no queue limit", busy(idle, "", 100), "cpu=1", 0, false},
		{"never fits here: spill", idle, "gpu=2", 4, true},
		{"missing custom resource: spill", idle, "disk_fast=1", 4, true},
		{"dead: spill", dead(idle), "cpu=1", 4, true},
		{"needs nothing: run here", busy(idle, "cpu=4,gpu=1", 0), "", 4, false},
	}
	for _, c := range cases {
		if got := ShouldSpill(c.local, spec(c.demand), c.limit); got != c.want {
			t.Errorf("%s: ShouldSpill = %v, want %v", c.name, got, c.want)
		}
	}
}

// impossible are requests no generated cluster can run, with the start of
// the error each must get.
var impossible = []struct {
	req  Request
	want string
}{
	{Request{TaskID: "huge-cpu", Demand: spec("cpu=1000")}, "no node can run task huge-cpu: it needs cpu=1000; the largest node, "},
	{Request{TaskID: "many-gpus", Demand: spec("cpu=1,gpu=16")}, "no node can run task many-gpus: it needs cpu=1 gpu=16; the largest node, "},
	{Request{TaskID: "tpu", Demand: spec("tpu=1")}, "no node can run task tpu: it needs tpu=1; the largest node, "},
	{Request{TaskID: "huge-mem", Demand: spec("memory=8PiB")}, "no node can run task huge-mem: it needs memory=8.0PiB; the largest node, "},
}

func TestThousandNodes(t *testing.T) {
	nodes := GenerateNodes(1000, 42)
	h := NewHarness(nodes)
	reqs := GenerateRequests(6000, 43, nodes)
	for i, imp := range impossible {
		reqs = append(reqs[:1000*(i+1)], append([]Request{imp.req}, reqs[1000*(i+1):]...)...)
	}
	// Some requests avoid nodes they "failed" on.
	for i := 0; i < len(reqs); i += 7 {
		reqs[i].Avoid = []string{nodes[i%len(nodes)].ID, nodes[(i*31)%len(nodes)].ID}
	}
	for start := 0; start < len(reqs); start += 1000 {
		h.Submit(reqs[start:min(start+1000, len(reqs))]...)
	}
	if len(h.Plans) != 7 {
		t.Fatalf("recorded %d plans, want 7", len(h.Plans))
	}

	if err := h.CheckNoOvercommit(); err != nil {
		t.Fatal(err)
	}
	byID := map[string]NodeState{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	wantErr := map[string]string{}
	for _, imp := range impossible {
		wantErr[imp.req.TaskID] = imp.want
	}
	placed, queued := 0, 0
	for _, plan := range h.Plans {
		for _, pl := range plan.Placements {
			id := pl.Request.TaskID
			if want, ok := wantErr[id]; ok {
				if pl.Err == nil || !strings.HasPrefix(pl.Err.Error(), want) || !errors.Is(pl.Err, ErrInfeasible) {
					t.Errorf("%s: err = %v, want %q…", id, pl.Err, want)
				}
				continue
			}
			if pl.Err != nil {
				t.Errorf("%s: %v", id, pl.Err)
				continue
			}
			n := byID[pl.Decision.Node]
			if !n.Alive || !pl.Request.Demand.Fits(n.Total) {
				t.Errorf("%s placed on %s, which is dead or too small: %+v", id, n.ID, n)
			}
			for _, a := range pl.Request.Avoid {
				if a == n.ID {
					t.Errorf("%s placed on %s, which it avoids", id, a)
				}
			}
			if pl.Decision.Queued {
				queued++
			} else {
				placed++
			}
		}
	}
	t.Logf("6000 requests on 1000 nodes: %d run now, %d queued, %d infeasible", placed, queued, len(impossible))
	if placed == 0 || queued == 0 {
		t.Errorf("the scenario should both fill nodes and queue (run now %d, queued %d)", placed, queued)
	}
	// Over-commit is also visible in the planner's state.
	for _, n := range h.State().Nodes {
		for name, q := range n.Available.All() {
			if q < 0 && byID[n.ID].Available.Get(name) >= 0 {
				t.Errorf("node %s: %s went negative (%d)", n.ID, name, q)
			}
		}
	}
}

func TestDeterminism(t *testing.T) {
	run := func(perm bool) []Decision {
		nodes := GenerateNodes(300, 9)
		reqs := GenerateRequests(2000, 10, nodes)
		if perm {
			// The order of nodes in the snapshot must not matter.
			rng := rand.New(rand.NewPCG(1, 2))
			rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		}
		plan := NewHarness(nodes).Submit(reqs...)
		out := make([]Decision, len(plan.Placements))
		for i, pl := range plan.Placements {
			if pl.Err != nil {
				t.Fatal(pl.Err)
			}
			out[i] = pl.Decision
		}
		return out
	}
	first := run(false)
	if again := run(false); !reflect.DeepEqual(first, again) {
		t.Error("the same input gave different decisions")
	}
	if shuffled := run(true); !reflect.DeepEqual(first, shuffled) {
		for i := range first {
			if first[i] != shuffled[i] {
				t.Fatalf("decision %d: %+v in order, %+v shuffled", i, first[i], shuffled[i])
			}
		}
	}
}

func TestGenerators(t *testing.T) {
	a, b := GenerateNodes(100, 5), GenerateNodes(100, 5)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("GenerateNodes is not deterministic")
	}
	gpus, dead, custom := 0, 0, 0
	for _, n := range GenerateNodes(1000, 5) {
		if !n.Available.Fits(n.Total) {
			t.Errorf("%s: available %v exceeds total %v", n.ID, n.Available, n.Total)
		}
		if n.Total.GPU() > 0 {
			gpus++
		}
		if !n.Alive {
			dead++
		}
		if n.Total.Get("disk_fast") > 0 {
			custom++
		}
	}
	if gpus == 0 || dead == 0 || custom == 0 {
		t.Errorf("generated nodes lack variety: %d gpu, %d dead, %d disk_fast", gpus, dead, custom)
	}
}

func BenchmarkPlace1000Nodes(b *testing.B) {
	nodes := GenerateNodes(1000, 42)
	snap := &Snapshot{Nodes: nodes}
	reqs := GenerateRequests(1024, 43, nodes)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := Place(reqs[i%len(reqs)], snap); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "placements/s")
}

func BenchmarkPlanner1000Nodes(b *testing.B) {
	nodes := GenerateNodes(1000, 42)
	reqs := GenerateRequests(1000, 43, nodes)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		NewPlanner(&Snapshot{Nodes: nodes}).Plan(reqs)
		n += len(reqs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "placements/s")
}
