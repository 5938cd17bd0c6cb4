package planner

import (
	"fmt"

	"github.com/rayflow/rayflow/planner/decision"
)

// Annotate notes on the nodes of g what set decided for their call
// sites, so `rayflow plan --opt ...` shows the optimised graph: calls
// sent in groups, calls fused with the call whose result they take,
// calls started early by a loop run ahead, calls placed by a hint.
func Annotate(g *Graph, set *decision.Set) {
	if set.Empty() {
		return
	}
	ahead := map[*Node]int{}
	for _, loop := range set.Loops {
		for _, p := range g.Pipelines {
			for _, n := range p.Nodes {
				if n.Site == loop.Site {
					ahead[n] = loop.Depth
				}
			}
		}
	}
	for _, p := range g.Pipelines {
		for _, n := range p.Nodes {
			d := set.Site(n.Site)
			if d != nil && d.Group > 1 {
				n.Notes = append(n.Notes, fmt.Sprintf("batch: sent in groups of up to %d calls", d.Group))
			}
			if d != nil && d.Adaptive {
				n.Notes = append(n.Notes, "batch(auto): grouped at run time once its calls prove cheaper to run than to schedule")
			}
			if d != nil && d.Fuse {
				if from := fusedWith(n, set); from != nil {
					n.Notes = append(n.Notes, fmt.Sprintf("fuse: runs right after %s, on the same worker", from.ID))
				}
			}
			if note := placeNote(d); note != "" {
				n.Notes = append(n.Notes, note)
			}
			if depth, ok := ahead[n]; ok {
				n.Notes = append(n.Notes, fmt.Sprintf("pipeline: up to %d calls in flight", depth))
			}
		}
	}
}

// placeNote is the note of a site's placement decision, "" for none.
func placeNote(d *decision.Site) string {
	if d == nil {
		return ""
	}
	switch d.Place {
	case decision.PlaceSpread:
		return "spread: calls go round-robin to distinct nodes"
	case decision.PlaceLocality:
		return "locality: runs next to its largest argument"
	case decision.PlaceColocate:
		return fmt.Sprintf("colocate: runs next to argument %d", d.With+1)
	}
	return ""
}

// fusedWith is the node whose future n takes directly and whose site is
// grouped too, so that n joins its group.
func fusedWith(n *Node, set *decision.Set) *Node {
	for _, e := range n.In {
		if e.Kind == EdgeFuture && set.Site(e.From.Site).Grouped() {
			return e.From
		}
	}
	return nil
}
