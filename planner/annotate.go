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
	g.Applied = append(g.Applied, appliedHints(set)...)
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
			if d != nil && d.Template {
				n.Notes = append(n.Notes, "template: goes where the same call went in an earlier iteration, without asking the head")
			}
			if note := reduceNote(n, set); note != "" {
				n.Notes = append(n.Notes, note)
			}
			if depth, ok := ahead[n]; ok {
				n.Notes = append(n.Notes, fmt.Sprintf("pipeline: up to %d calls in flight", depth))
			}
		}
	}
}

// appliedHints names what set applies anywhere, for the plan's header.
func appliedHints(set *decision.Set) []string {
	has := map[string]bool{"pipeline": len(set.Loops) > 0, "tree_reduce": len(set.Reduce) > 0,
		"template": len(set.Templates) > 0, "spread": len(set.Actors) > 0}
	for _, d := range set.Sites {
		has["batch"] = has["batch"] || d.Group > 1
		has["batch(auto)"] = has["batch(auto)"] || d.Adaptive
		has["fuse"] = has["fuse"] || d.Fuse
		switch d.Place {
		case decision.PlaceSpread:
			has["spread"] = true
		case decision.PlaceLocality:
			has["locality"] = true
		case decision.PlaceColocate:
			has["colocate"] = true
		}
	}
	var out []string
	for _, name := range []string{"batch", "batch(auto)", "fuse", "pipeline", "tree_reduce", "spread", "locality", "colocate", "template"} {
		if has[name] {
			out = append(out, name)
		}
	}
	return out
}

// reduceNote says how a reduce node's calls are shaped: a tree with
// tree_reduce, else the left fold's chain.
func reduceNote(n *Node, set *decision.Set) string {
	if n.Reduce == nil || n.Site == nil {
		return ""
	}
	k := int64(set.ReduceArity(n.Site.Func))
	if k < 2 {
		return ""
	}
	if depth := n.Reduce.Depth(k); depth >= 0 {
		return fmt.Sprintf("tree_reduce: a %d-ary tree of the same calls, %d deep instead of a chain %d deep", k, depth, n.Reduce.Depth(0))
	}
	return fmt.Sprintf("tree_reduce: a %d-ary tree of the same calls instead of a chain", k)
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
