package placement

import (
	"fmt"
	"math/rand/v2"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// This file holds what tests of the global scheduler need, here and in other
// packages: a Harness that records the plans a Planner produces, and
// generators of simulated clusters and workloads. They follow nomad's
// scheduler/testing.go: many-node scenarios without a cluster.

// Harness runs batches of requests through one Planner, which keeps its
// reservations from batch to batch, and records every plan.
type Harness struct {
	// Initial is the cluster the harness started from.
	Initial []NodeState
	// Planner holds the state after every batch so far.
	Planner *Planner
	// Plans records every plan, in the order submitted.
	Plans []*Plan
}

// NewHarness returns a Harness over nodes, which it does not modify.
func NewHarness(nodes []NodeState) *Harness {
	initial := append([]NodeState(nil), nodes...)
	return &Harness{Initial: initial, Planner: NewPlanner(&Snapshot{Nodes: initial})}
}

// Submit places a batch of requests, records the plan and returns it.
func (h *Harness) Submit(reqs ...Request) *Plan {
	plan := h.Planner.Plan(reqs)
	h.Plans = append(h.Plans, plan)
	return plan
}

// State returns the node states after every batch so far.
func (h *Harness) State() *Snapshot { return h.Planner.Snapshot() }

// Reserved sums, per node, the demand of every recorded placement that runs
// now (queued placements reserve nothing until they start).
func (h *Harness) Reserved() map[string]resources.Resources {
	reserved := map[string]resources.Resources{}
	for _, plan := range h.Plans {
		for _, pl := range plan.Placements {
			if pl.Err == nil && !pl.Decision.Queued {
				reserved[pl.Decision.Node] = reserved[pl.Decision.Node].Add(pl.Request.Demand)
			}
		}
	}
	return reserved
}

// CheckNoOvercommit returns an error naming the first node (in the order of
// Initial) to which the recorded plans gave more than it had free, or more
// than its total.
func (h *Harness) CheckNoOvercommit() error {
	reserved := h.Reserved()
	for _, n := range h.Initial {
		r := reserved[n.ID]
		if !r.Fits(n.Total) {
			return fmt.Errorf("node %s: reserved %v exceeds its total %v", n.ID, r, n.Total)
		}
		if !r.Fits(n.Available) {
			return fmt.Errorf("node %s: reserved %v exceeds the %v it had free", n.ID, r, n.Available)
		}
	}
	return nil
}

// GenerateNodes returns n simulated nodes named node-0000, node-0001, …
// with a mix of sizes: half small cpu nodes (2–8 cpus), three in ten large
// cpu nodes (16–64 cpus), the rest gpu nodes (1–8 gpus); one in twenty has
// a custom "disk_fast" resource, one in fifty is dead, and each is partly
// busy (some of its resources in use, a short queue). The same seed gives
// the same nodes.
func GenerateNodes(n int, seed uint64) []NodeState {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_0f_9a7e))
	nodes := make([]NodeState, n)
	for i := range nodes {
		var cpus, gpus int64
		var memPerCPU int64 = 8 << 30
		switch k := rng.IntN(100); {
		case k < 50:
			cpus, memPerCPU = pick(rng, 2, 4, 8), 4<<30
		case k < 80:
			cpus = pick(rng, 16, 32, 64)
		default:
			cpus, gpus = pick(rng, 8, 16, 32), pick(rng, 1, 2, 4, 8)
		}
		total := resources.Resources{}.
			With(resources.CPU, cpus*resources.Milli).
			With(resources.GPU, gpus*resources.Milli).
			With(resources.Memory, cpus*memPerCPU)
		if rng.IntN(20) == 0 {
			total = total.With("disk_fast", pick(rng, 1, 2)*resources.Milli)
		}

		// In use: a whole number of half cpus, memory in proportion, some
		// gpus; a busy node has a short queue.
		usedCPU := rng.Int64N(2*cpus+1) * resources.Milli / 2
		used := resources.Resources{}.
			With(resources.CPU, usedCPU).
			With(resources.Memory, usedCPU*(memPerCPU/resources.Milli)/2).
			With(resources.GPU, rng.Int64N(gpus+1)*resources.Milli)
		queue := 0
		if usedCPU*4 >= 3*cpus*resources.Milli {
			queue = rng.IntN(5)
		}
		nodes[i] = NodeState{
			ID:        fmt.Sprintf("node-%04d", i),
			Alive:     rng.IntN(50) != 0,
			Total:     total,
			Available: total.Sub(used),
			QueueLen:  queue,
			Running:   int(usedCPU / resources.Milli),
		}
	}
	return nodes
}

// GenerateRequests returns n simulated requests named task-000000, … for a
// cluster of nodes: mostly one or half a cpu, some with memory, gpus or
// disk_fast; half have arguments (1 KiB to 256 MiB) on one to three nodes.
// None is infeasible on a cluster from GenerateNodes of a few dozen nodes or
// more. The same seed and nodes give the same requests.
func GenerateRequests(n int, seed uint64, nodes []NodeState) []Request {
	rng := rand.New(rand.NewPCG(seed, 0x7a5c_0f_9a7e))
	demands := []resources.Resources{
		resources.MustParseSpec("cpu=1"),
		resources.MustParseSpec("cpu=0.5"),
		resources.MustParseSpec("cpu=2,memory=2GiB"),
		resources.MustParseSpec("cpu=4,memory=16GiB"),
		resources.MustParseSpec("cpu=1,gpu=1"),
		resources.MustParseSpec("cpu=1,disk_fast=1"),
	}
	weights := []int{40, 20, 20, 8, 8, 4} // percent
	reqs := make([]Request, n)
	for i := range reqs {
		k, j := rng.IntN(100), 0
		for k >= weights[j] {
			k -= weights[j]
			j++
		}
		req := Request{TaskID: fmt.Sprintf("task-%06d", i), Demand: demands[j]}
		if len(nodes) > 0 && rng.IntN(2) == 0 {
			req.ArgBytes = map[string]int64{}
			for range 1 + rng.IntN(3) {
				req.ArgBytes[nodes[rng.IntN(len(nodes))].ID] = 1<<10 + rng.Int64N(256<<20)
			}
		}
		reqs[i] = req
	}
	return reqs
}

func pick(rng *rand.Rand, choices ...int64) int64 {
	return choices[rng.IntN(len(choices))]
}
