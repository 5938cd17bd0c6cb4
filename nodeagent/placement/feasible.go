package placement

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// ErrInfeasible matches (with errors.Is) every error Place returns because
// no node can run a task.
var ErrInfeasible = errors.New("no node can run the task")

// InfeasibleError says that no alive node can run a task, what the task
// asked for, and what the nearest node has.
type InfeasibleError struct {
	// TaskID and Demand repeat the request.
	TaskID string
	Demand resources.Resources
	// Largest is the alive node that comes closest to holding the demand,
	// and LargestTotal its total resources; empty when no node is alive.
	Largest      string
	LargestTotal resources.Resources
	msg          string
}

// Error returns a message such as "no node can run task t1: it needs cpu=4
// gpu=1; the largest node, n7, has cpu=2 gpu=0".
func (e *InfeasibleError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrInfeasible) true.
func (e *InfeasibleError) Is(target error) bool { return target == ErrInfeasible }

// feasibility is the first step of Place: it rules out nodes that can never
// run the request.
type feasibility struct {
	demand resources.Resources
	avoid  []string
	// avoidSet replaces avoid when the list is long, so that a task that
	// failed on many nodes does not make Place quadratic.
	avoidSet map[string]struct{}
}

// avoidSetAbove is the length of Request.Avoid above which a set is built.
const avoidSetAbove = 8

func newFeasibility(req *Request) feasibility {
	f := feasibility{demand: req.Demand, avoid: req.Avoid}
	if len(req.Avoid) > avoidSetAbove {
		f.avoidSet = make(map[string]struct{}, len(req.Avoid))
		for _, id := range req.Avoid {
			f.avoidSet[id] = struct{}{}
		}
	}
	return f
}

// feasible reports whether n is alive, large enough, and not avoided.
func (f *feasibility) feasible(n *NodeState) bool {
	return n.Alive && f.demand.Fits(n.Total) && !f.avoided(n.ID)
}

func (f *feasibility) avoided(id string) bool {
	if f.avoidSet != nil {
		_, ok := f.avoidSet[id]
		return ok
	}
	for _, a := range f.avoid {
		if a == id {
			return true
		}
	}
	return false
}

// infeasible builds the error for a request no node can run. It runs only
// when placement failed, so it may take its time to be clear.
func infeasible(req *Request, snap *Snapshot, f feasibility) error {
	e := &InfeasibleError{TaskID: req.TaskID, Demand: req.Demand}
	what := req.TaskID
	if !strings.HasPrefix(what, "task ") && !strings.HasPrefix(what, "actor ") {
		what = "task " + what
	}
	prefix := fmt.Sprintf("no node can run %s: ", what)

	var alive, largeEnough []string
	best, bestCloseness := -1, -1.0
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		if !n.Alive {
			continue
		}
		alive = append(alive, n.ID)
		if req.Demand.Fits(n.Total) {
			largeEnough = append(largeEnough, n.ID)
		}
		c := closeness(req.Demand, n.Total)
		if c > bestCloseness || (c == bestCloseness && n.ID < snap.Nodes[best].ID) {
			best, bestCloseness = i, c
		}
	}

	switch {
	case len(snap.Nodes) == 0:
		e.msg = prefix + "the cluster has no nodes"
	case len(alive) == 0:
		e.msg = prefix + fmt.Sprintf("none of the %d nodes is alive", len(snap.Nodes))
	case len(largeEnough) > 0:
		// Every node that could run it has already failed it.
		slices.Sort(largeEnough)
		e.msg = prefix + fmt.Sprintf("it needs %s, and every alive node large enough (%s) has already failed it",
			req.Demand, abbreviate(largeEnough, 5))
	default:
		n := &snap.Nodes[best]
		e.Largest, e.LargestTotal = n.ID, n.Total
		e.msg = prefix + fmt.Sprintf("it needs %s; the largest node, %s, has %s",
			req.Demand, n.ID, formatLike(n.Total, req.Demand))
	}
	return e
}

// closeness measures how nearly total holds demand: the sum over demanded
// resources of the fraction of the demand the node has, each capped at 1.
// The node with the highest closeness is the one named in the error.
func closeness(demand, total resources.Resources) float64 {
	c := 0.0
	for name, d := range demand.All() {
		if d <= 0 {
			continue
		}
		c += min(1, max(0, float64(total.Get(name))/float64(d)))
	}
	return c
}

// formatLike formats the quantities of r that demand asks for, zeros
// included, in the order of demand.String(), so the two read side by side.
func formatLike(r, demand resources.Resources) string {
	var b strings.Builder
	for name := range demand.All() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name + "=" + resources.FormatQuantity(name, r.Get(name)))
	}
	if b.Len() == 0 {
		return r.String()
	}
	return b.String()
}

// abbreviate joins ids, eliding all but the first limit.
func abbreviate(ids []string, limit int) string {
	if len(ids) <= limit {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:limit], ", "), len(ids)-limit)
}
