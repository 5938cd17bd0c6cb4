package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// Options control how a graph is built.
type Options struct {
	// Pipeline is the one to plan; empty plans every pipeline.
	Pipeline string
	// Unroll is how many iterations of a loop over a constant range are
	// shown as separate nodes; the rest collapse into one node per call
	// site. 0 means DefaultUnroll.
	Unroll int
	// InlineDepth bounds the nesting of inlined fn calls. 0 means
	// DefaultInlineDepth.
	InlineDepth int
	// MaxNodes bounds the nodes of one pipeline outside regions; calls
	// beyond it collapse. 0 means DefaultMaxNodes.
	MaxNodes int
	// Params are pipeline parameters given as NAME=VALUE, used instead
	// of the defaults (unknown names are ignored here; the command line
	// checks them).
	Params map[string]string
	// Rewrites are the passes to apply; nil means the package's
	// Rewrites.
	Rewrites []Rewrite
}

// The defaults of Options.
const (
	DefaultUnroll      = 16
	DefaultInlineDepth = 8
	DefaultMaxNodes    = 1000
)

func (o Options) withDefaults() Options {
	if o.Unroll <= 0 {
		o.Unroll = DefaultUnroll
	}
	if o.InlineDepth <= 0 {
		o.InlineDepth = DefaultInlineDepth
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.Rewrites == nil {
		o.Rewrites = Rewrites
	}
	return o
}

// Build plans every pipeline of p with the default options.
func Build(p *compiler.Program) *Graph {
	g, _ := Plan(p, Options{})
	return g
}

// Plan builds the task graph of the chosen pipelines of p and applies
// the rewrite passes. It fails only for an unknown pipeline name or a
// failing rewrite.
func Plan(prog *compiler.Program, opts Options) (*Graph, error) {
	opts = opts.withDefaults()
	g := &Graph{}
	if prog.File != nil {
		g.File = prog.File.Name
	}
	pipes := prog.Pipelines
	if opts.Pipeline != "" {
		pipes = nil
		for _, f := range prog.Pipelines {
			if f.Name == opts.Pipeline {
				pipes = append(pipes, f)
			}
		}
		if len(pipes) == 0 {
			names := prog.PipelineNames()
			if len(names) == 0 {
				return nil, fmt.Errorf("no pipeline named '%s': the program declares none", opts.Pipeline)
			}
			return nil, fmt.Errorf("no pipeline named '%s'; pipelines: %s", opts.Pipeline, strings.Join(names, ", "))
		}
	}
	hasSites := fnsWithSites(prog)
	for _, f := range pipes {
		p := &Pipeline{Name: f.Name, Func: f, Hints: f.Hints}
		w := &walker{prog: prog, opts: opts, p: p, counts: map[NodeKind]int{},
			consts: map[*compiler.Global]*val{}, constBusy: map[*compiler.Global]bool{}, hasSites: hasSites}
		w.pipeline(f)
		finish(p)
		g.Pipelines = append(g.Pipelines, p)
	}
	for _, rw := range opts.Rewrites {
		for _, p := range g.Pipelines {
			if err := rw.Apply(g, p); err != nil {
				return nil, fmt.Errorf("planner rewrite %s: %w", rw.Name, err)
			}
		}
		g.Applied = append(g.Applied, rw.Name)
	}
	return g, nil
}

// finish drops regions that show nothing, numbers the rest in the
// order they print, sorts edges and renders arguments.
func finish(p *Pipeline) {
	p.Regions = nil
	p.Items = prune(p, p.Items)
	for i, r := range p.Regions {
		r.ID = fmt.Sprintf("r%d", i+1)
	}
	for _, n := range p.Nodes {
		sort.SliceStable(n.In, func(i, j int) bool { return n.In[i].From.seq < n.In[j].From.seq })
		n.edgeIdx = nil
		n.Args = nil
		for i, a := range n.args {
			var v *val
			if i < len(n.argVals) {
				v = n.argVals[i]
			}
			n.Args = append(n.Args, Arg{Name: n.names[i], Text: argText(v, a)})
		}
	}
}

func prune(p *Pipeline, items []Item) []Item {
	var out []Item
	for _, it := range items {
		if r := it.Region; r != nil {
			if !shows(r) {
				continue
			}
			p.Regions = append(p.Regions, r)
			r.Items = prune(p, r.Items)
		}
		out = append(out, it)
	}
	return out
}

// shows reports whether a region holds a node or an opaque call.
func shows(r *Region) bool {
	if r.Opaque {
		return true
	}
	for _, it := range r.Items {
		if it.Node != nil || it.Region != nil && shows(it.Region) {
			return true
		}
	}
	return false
}

// argText shows an argument: a constant, the node whose future it is,
// a list of such nodes, or else the source text.
func argText(v *val, a *lang.Arg) string {
	if v != nil {
		if v.known {
			return shorten(literal(v.k), 40)
		}
		if n := futureOf(v); n != nil {
			return n.ID
		}
		if v.list && v.more == nil && len(v.elems) > 0 {
			var ns []*Node
			for _, e := range v.elems {
				n := futureOf(e)
				if n == nil {
					ns = nil
					break
				}
				ns = append(ns, n)
			}
			if ns != nil {
				return "[" + idList(ns) + "]"
			}
		}
	}
	return shorten(exprText(a.Value), 40)
}

// futureOf returns the node v is the future (or actor handle) of, if
// it is exactly one.
func futureOf(v *val) *Node {
	if v == nil || v.list || len(v.refs) != 1 {
		return nil
	}
	for n, k := range v.refs {
		if (k == EdgeFuture || k == EdgeHandle) && !n.Collapsed {
			return n
		}
	}
	return nil
}

func sortNodes(ns []*Node) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].seq < ns[j].seq })
}

// idList shows node IDs, runs of three or more as t1..t8.
func idList(ns []*Node) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && idNext(ns[j].ID, ns[j+1].ID) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, ns[i].ID+".."+ns[j].ID)
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, ns[k].ID)
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func idNext(a, b string) bool {
	var pa, pb byte
	var na, nb int
	if _, err := fmt.Sscanf(a, "%c%d", &pa, &na); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%c%d", &pb, &nb); err != nil {
		return false
	}
	return pa == pb && nb == na+1
}
