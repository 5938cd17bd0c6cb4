package placement

import (
	"fmt"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// Ranking: the score of a node that has the demand free now is
//
//	score = 1.0 × free + 1.0 × 1/(1+queue) + 2.0 × locality − 0.5 × gpuIdle
//
// where
//
//   - free ∈ [0,1] is the mean, over cpu and every resource the task asks
//     for, of (available − demand) / total on that node: the share left free
//     after placement. Preferring the most free node spreads load (the
//     opposite of nomad's bin-packing), because a Ray-style cluster is sized
//     for latency: a node with headroom runs the tasks its own drivers
//     submit locally instead of spilling them, and a task placed on an
//     emptier node competes less for memory bandwidth and the object store.
//   - 1/(1+queue) ∈ (0,1] falls with the node's local queue. A node with
//     free resources and a queue is usually waiting on argument fetches;
//     the queue delays our task's dispatch.
//   - locality ∈ [0,1] is the share of the task's argument bytes already on
//     the node, scaled down when the arguments are small:
//     locality = onNode/allArgs × min(1, allArgs/64MiB). Moving 64 MiB takes
//     tens of milliseconds on a fast network, about as long as a short task,
//     so above that size locality outweighs free resources and queue (its
//     weight, 2, is their combined maximum); small arguments travel inline
//     with the task and should not pull it onto a busy node. Between nodes
//     that are otherwise equal, any local bytes win.
//   - gpuIdle is 1 when the node has gpus and the task asks for none:
//     keeping cpus on gpu nodes free keeps those scarce nodes open for the
//     tasks that need them. Half a point means a cpu-only task goes to a
//     gpu node only when the cpu-only nodes are about half as free.
//
// The score is computed from the same inputs in the same order, so equal
// inputs give bit-for-bit equal scores, and ties are broken by node ID.
//
// A node that does not have the demand free now (or is the request's
// origin) is ranked only when no node has it free: by estimated wait,
// (queue+1)/slots, where slots is how many tasks of this demand the node
// runs at once (min over the demand of total/demand), then by locality,
// then by node ID. The task queues there.
const (
	weightFree     = 1.0
	weightQueue    = 1.0
	weightLocality = 2.0
	weightGPUIdle  = 0.5

	// LocalityFullBytes is the total argument size at and above which data
	// locality counts fully in the score.
	LocalityFullBytes = 64 << 20

	// maxSlots caps slots so that wait fractions compare without overflow.
	maxSlots = 1 << 20
	// maxQueue caps a reported queue length for the same reason.
	maxQueue = 1 << 30
)

// ranker scores feasible nodes for one request. It precomputes everything
// that does not depend on the node, so that scoring a node allocates
// nothing.
type ranker struct {
	req *Request
	// dims are the resources the free share is taken over: cpu, then every
	// other resource the demand asks for.
	dims []dim
	// localityScale turns bytes on a node into the locality term.
	localityScale float64
	argBytes      int64
	noGPU         bool
}

type dim struct {
	kind   dimKind
	name   string
	demand int64
}

// dimKind lets the hot loop read built-in resources without comparing names.
type dimKind uint8

const (
	dimCPU dimKind = iota
	dimGPU
	dimMemory
	dimCustom
)

func newDim(name string, demand int64) dim {
	k := dimCustom
	switch name {
	case resources.CPU:
		k = dimCPU
	case resources.GPU:
		k = dimGPU
	case resources.Memory:
		k = dimMemory
	}
	return dim{kind: k, name: name, demand: demand}
}

func (d *dim) get(r *resources.Resources) int64 {
	switch d.kind {
	case dimCPU:
		return r.CPU()
	case dimGPU:
		return r.GPU()
	case dimMemory:
		return r.Memory()
	}
	return r.Get(d.name)
}

func newRanker(req *Request) ranker {
	r := ranker{req: req, noGPU: req.Demand.GPU() <= 0}
	r.dims = append(r.dims, newDim(resources.CPU, req.Demand.CPU()))
	for name, q := range req.Demand.All() {
		if name != resources.CPU && q > 0 {
			r.dims = append(r.dims, newDim(name, q))
		}
	}
	for _, b := range req.ArgBytes {
		if b > 0 {
			r.argBytes = resources.SatAdd(r.argBytes, b)
		}
	}
	if r.argBytes > 0 {
		r.localityScale = min(1, float64(r.argBytes)/LocalityFullBytes) / float64(r.argBytes)
	}
	return r
}

// reciprocals[k] is 1/k, for the mean in free.
var reciprocals = [...]float64{0, 1, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5, 1.0 / 6, 1.0 / 7, 1.0 / 8}

// score ranks a node that has the demand free now; higher is better.
func (r *ranker) score(n *NodeState) float64 {
	s := weightFree*r.free(n) + weightQueue*r.queue(n) + weightLocality*r.locality(n)
	if r.noGPU && n.Total.GPU() > 0 {
		s -= weightGPUIdle
	}
	return s
}

// free is the mean share of each ranked resource left free after placement.
func (r *ranker) free(n *NodeState) float64 {
	sum, k := 0.0, 0
	for _, d := range r.dims {
		total, avail := d.get(&n.Total), d.get(&n.Available)
		if total <= 0 {
			continue
		}
		// Clamp in integers: cheaper than float min/max, which must
		// handle NaN and signed zeros.
		left := avail - d.demand
		if left <= 0 {
			k++
			continue
		}
		if left > total {
			left = total
		}
		sum += float64(left) / float64(total)
		k++
	}
	if k == 0 {
		return 0
	}
	if k < len(reciprocals) {
		return sum * reciprocals[k] // a multiply is several times cheaper than a divide
	}
	return sum / float64(k)
}

func (r *ranker) queue(n *NodeState) float64 {
	return 1 / (1 + float64(min(max(n.QueueLen, 0), maxQueue)))
}

// locality is the share of argument bytes on n, scaled by argument size.
func (r *ranker) locality(n *NodeState) float64 {
	if r.argBytes == 0 {
		return 0
	}
	b := r.req.ArgBytes[n.ID]
	if b <= 0 {
		return 0
	}
	return float64(b) * r.localityScale
}

// slots is how many tasks of this demand n runs at once when empty.
func (r *ranker) slots(n *NodeState) int64 {
	s := int64(maxSlots)
	for _, d := range r.dims {
		if d.demand > 0 {
			s = min(s, d.get(&n.Total)/d.demand)
		}
	}
	return max(s, 1)
}

// explain is the Reason of a placement on a node with the demand free.
func (r *ranker) explain(n *NodeState) string {
	gpu := ""
	if r.noGPU && n.Total.GPU() > 0 {
		gpu = fmt.Sprintf(" - gpu idle %.2f", weightGPUIdle)
	}
	return fmt.Sprintf("%s %s; best score %.3f = free %.2f + queue %.2f + locality %.2f%s",
		n.ID, hasFree(r.req.Demand), r.score(n),
		weightFree*r.free(n), weightQueue*r.queue(n), weightLocality*r.locality(n), gpu)
}

// explainQueued is the Reason of a placement that will wait in a queue.
func (r *ranker) explainQueued(n *NodeState, origin string) string {
	why := "no feasible node " + hasFree(r.req.Demand)
	if origin != "" {
		why += fmt.Sprintf(" (%s, which spilled the task, counts as full)", origin)
	}
	return fmt.Sprintf("%s; queued on %s, the least loaded feasible node (queue %d, runs %d such tasks at once)",
		why, n.ID, n.QueueLen, r.slots(n))
}

func hasFree(d resources.Resources) string {
	if d.IsZero() {
		return "has room now (the task needs no resources)"
	}
	return "has " + d.String() + " free now"
}
