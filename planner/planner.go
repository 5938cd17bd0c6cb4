// Package planner builds the planned task graph of a program: the static
// part of each pipeline's task graph, shown by `rayflow plan` as text or
// Graphviz. Paradigm hints (@hint) will rewrite it here.
package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
)

// Graph is the planned task graph of a program: one node per task,
// actor or method call site, grouped by the function that makes it.
type Graph struct {
	Sites []*compiler.CallSite
	prog  *compiler.Program
}

// Build makes the graph of a compiled program.
func Build(p *compiler.Program) *Graph {
	g := &Graph{prog: p}
	for _, s := range p.Sites {
		g.Sites = append(g.Sites, s)
	}
	sort.Slice(g.Sites, func(i, j int) bool {
		a, b := g.Sites[i].Pos, g.Sites[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return g
}

func enclosing(s *compiler.CallSite) string {
	if s.Enclosing == nil {
		return "<const>"
	}
	return s.Enclosing.QualifiedName()
}

// Text renders the graph for a terminal.
func (g *Graph) Text() string {
	var b strings.Builder
	for _, f := range g.prog.Funcs {
		var sites []*compiler.CallSite
		for _, s := range g.Sites {
			if s.Enclosing == f {
				sites = append(sites, s)
			}
		}
		if len(sites) == 0 && f.Kind != "pipeline" {
			continue
		}
		det := "deterministic"
		if !f.Deterministic {
			det = "nondeterministic: " + f.NondeterministicReason()
		}
		fmt.Fprintf(&b, "%s %s (%s)\n", f.Kind, f.QualifiedName(), det)
		for _, s := range sites {
			fmt.Fprintf(&b, "  %d:%d %s %s(%s)", s.Pos.Line, s.Pos.Column, s.Kind, s.Callee, strings.Join(s.ArgSources, ", "))
			if len(s.Resources) > 0 {
				fmt.Fprintf(&b, " resources=%v", formatResources(s.Resources))
			}
			if !s.Deterministic {
				b.WriteString(" nondeterministic")
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func formatResources(r map[string]float64) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%g", k, r[k])
	}
	return strings.Join(parts, ",")
}

// Dot renders the graph as Graphviz.
func (g *Graph) Dot() string {
	var b strings.Builder
	b.WriteString("digraph rayflow {\n  rankdir=LR;\n")
	for i, s := range g.Sites {
		fmt.Fprintf(&b, "  n%d [label=%q, shape=%s];\n", i, fmt.Sprintf("%s %s\\n%d:%d", s.Kind, s.Callee, s.Pos.Line, s.Pos.Column), shapeOf(s.Kind))
		fmt.Fprintf(&b, "  %q -> n%d;\n", enclosing(s), i)
	}
	b.WriteString("}\n")
	return b.String()
}

func shapeOf(kind string) string {
	if kind == "actor" {
		return "box"
	}
	return "ellipse"
}
