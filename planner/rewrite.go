package planner

// Rewrite is a planner pass: it changes a pipeline's graph after it is
// built and before it is printed or run. Paradigm hints (@hint) and
// optimisation flags are to be implemented as rewrites: a pass finds the
// nodes a hint applies to (Pipeline.Hints, Node.Hints), and may add,
// merge or remove nodes and edges, or annotate them (Node.Notes,
// Pipeline.Notes), which the text and Graphviz output show.
//
// A pass must keep the graph consistent: every Edge.From is a node of
// the same pipeline (in Pipeline.Nodes), every node in Items is in
// Nodes, and regions listed in Pipeline.Regions appear in Items.
type Rewrite struct {
	// Name identifies the pass in `rayflow plan` output and errors.
	Name string
	// Apply rewrites one pipeline of g. It is called once per planned
	// pipeline, in order.
	Apply func(g *Graph, p *Pipeline) error
}

// Rewrites are the passes Plan applies by default, in order. None yet:
// no @hint is known (see compiler.KnownHints); the planner issue adds
// them here together with the hint names.
var Rewrites []Rewrite
