package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/internal/bytesize"
)

// Text renders the graph for a terminal: one line per node, loop and
// wait, dynamic regions indented under a header with their reason, and
// a summary line per pipeline.
func (g *Graph) Text() string {
	var b strings.Builder
	rewrites := "none"
	if len(g.Applied) > 0 {
		rewrites = strings.Join(g.Applied, ", ")
	}
	fmt.Fprintf(&b, "plan of %s (rewrites: %s)\n", g.File, rewrites)
	for _, p := range g.Pipelines {
		b.WriteByte('\n')
		p.text(&b)
	}
	return b.String()
}

func (p *Pipeline) text(b *strings.Builder) {
	fmt.Fprintf(b, "pipeline %s(%s)\n", p.Name, p.paramText())
	for _, h := range p.Hints {
		fmt.Fprintf(b, "  hint %s [%s]\n", hintText(h), posText(h.Pos))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
	itemsText(b, p.Items, "  ")
	fmt.Fprintf(b, "  summary: %s\n", p.summary())
}

func (p *Pipeline) paramText() string {
	parts := make([]string, len(p.Params))
	for i, prm := range p.Params {
		switch prm.Source {
		case "unknown":
			parts[i] = prm.Name + "=? (no default)"
		default:
			parts[i] = fmt.Sprintf("%s=%s (%s)", prm.Name, prm.Value, prm.Source)
		}
	}
	return strings.Join(parts, ", ")
}

func (p *Pipeline) summary() string {
	counts := map[NodeKind]int{}
	var collapsed, extra int64
	for _, n := range p.Nodes {
		counts[n.Kind]++
		if n.Collapsed {
			collapsed++
			extra += n.Count
		}
	}
	s := fmt.Sprintf("%s, %s, %s, %s, %s",
		plural(counts[TaskNode], "task"), plural(counts[ActorNode], "actor"),
		plural(counts[MethodNode], "method call"), plural(len(p.Regions), "dynamic region"),
		plural(p.Edges(), "edge"))
	if collapsed > 0 {
		verb := "stand"
		if collapsed == 1 {
			verb = "stands"
		}
		s += fmt.Sprintf("; %s %s for %d more calls", plural(int(collapsed), "collapsed node"), verb, extra)
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func itemsText(b *strings.Builder, items []Item, indent string) {
	for _, it := range items {
		switch {
		case it.Node != nil:
			b.WriteString(indent + it.Node.line() + "\n")
			for _, note := range it.Node.Notes {
				b.WriteString(indent + "  note: " + note + "\n")
			}
		case it.Loop != nil:
			b.WriteString(indent + it.Loop.line() + "\n")
		case it.Wait != nil:
			fmt.Fprintf(b, "%sget waits for %s [%s]\n", indent, idList(it.Wait.On), posText(it.Wait.Pos))
		case it.Region != nil:
			r := it.Region
			fmt.Fprintf(b, "%sdynamic %s: %s\n", indent, r.ID, r.Reason)
			if r.Opaque && len(r.Items) == 0 {
				b.WriteString(indent + "  (the planner cannot see what this calls)\n")
			}
			itemsText(b, r.Items, indent+"  ")
		}
	}
}

func (l *Loop) line() string {
	s := fmt.Sprintf("loop: %s over %s, %d iterations (bound: %s)", l.Kind, shorten(l.Iter, 40), l.N, l.Bound)
	switch {
	case l.Until != "":
		s += fmt.Sprintf("; it may stop at the %s, so iterations after %d are dynamic", l.Until, l.Shown)
	case l.Shown < l.N:
		s += fmt.Sprintf("; %d shown, the other %d collapsed", l.Shown, l.N-l.Shown)
	}
	return s + fmt.Sprintf(" [%s]", posText(l.Pos))
}

// line is the node as one line of text:
// `t3 task square(x=2) cpu=1 deterministic <- t1 [12:9]`.
func (n *Node) line() string {
	var b strings.Builder
	if n.Reduce != nil {
		fmt.Fprintf(&b, "%s reduce(%s, %s): %s", n.ID, n.Callee, n.reduceInputs(), n.Reduce.text(n.Callee))
	} else {
		fmt.Fprintf(&b, "%s %s %s(%s)", n.ID, n.Kind, n.Callee, n.argsText())
	}
	if n.Collapsed {
		fmt.Fprintf(&b, " … ×%d", n.Count)
	}
	for _, a := range n.annotations() {
		b.WriteString(" " + a)
	}
	if deps := n.depsText(); deps != "" {
		b.WriteString(" <- " + deps)
	}
	fmt.Fprintf(&b, " [%s", posText(n.Pos))
	for i := len(n.Via) - 1; i >= 0; i-- {
		sep := ","
		if i == len(n.Via)-1 {
			sep = ", inlined from"
		}
		fmt.Fprintf(&b, "%s %s() at %s", sep, n.Via[i].Fn, posText(n.Via[i].Pos))
	}
	b.WriteString("]")
	return b.String()
}

// reduceInputs is how a reduce node's xs reads.
func (n *Node) reduceInputs() string {
	if len(n.Args) < 2 {
		return "xs"
	}
	return n.Args[1].Text
}

func (n *Node) argsText() string {
	parts := make([]string, len(n.Args))
	for i, a := range n.Args {
		if a.Name == "" || a.Name == a.Text {
			parts[i] = a.Text
		} else {
			parts[i] = a.Name + "=" + a.Text
		}
	}
	return strings.Join(parts, ", ")
}

// annotations is the node's lineage annotation: resources, retries or
// restarts, determinism, hints.
func (n *Node) annotations() []string {
	var out []string
	s := n.Site
	if s == nil {
		return nil
	}
	if len(s.Resources) > 0 {
		out = append(out, formatResources(s.Resources))
	}
	if s.Retries >= 0 {
		r := fmt.Sprintf("retries=%d", s.Retries)
		if s.Func != nil && s.Func.RetryErrors {
			r += "(errors)"
		}
		out = append(out, r)
	}
	if n.Kind == ActorNode && s.Actor != nil {
		if s.Actor.Restarts > 0 {
			out = append(out, fmt.Sprintf("restarts=%d", s.Actor.Restarts))
		}
		if s.Actor.Checkpoint > 0 {
			out = append(out, fmt.Sprintf("checkpoint=%d", s.Actor.Checkpoint))
		}
	}
	if s.Options {
		out = append(out, "+ options(...) at the call")
	}
	switch {
	case s.Deterministic:
		out = append(out, "deterministic")
	case n.Kind == MethodNode:
		out = append(out, "nondeterministic (actor call order)")
	case s.Func != nil && s.Func.NondeterministicReason() != "":
		out = append(out, "nondeterministic ("+s.Func.NondeterministicReason()+")")
	default:
		out = append(out, "nondeterministic")
	}
	for _, h := range n.Hints {
		out = append(out, "hint "+hintText(h))
	}
	return out
}

// depsText groups the node's dependencies by kind:
// `t1, t2, via get: t3..t6, in list: t7, handle: a1`; a method's actor
// comes first as `a1:`.
func (n *Node) depsText() string {
	byKind := map[EdgeKind][]*Node{}
	for _, e := range n.In {
		byKind[e.Kind] = append(byKind[e.Kind], e.From)
	}
	var parts []string
	for _, k := range []EdgeKind{EdgeActor, EdgeFuture, EdgeValue, EdgeRef, EdgeHandle} {
		ns := byKind[k]
		if len(ns) == 0 {
			continue
		}
		switch k {
		case EdgeFuture:
			parts = append(parts, idList(ns))
		default:
			parts = append(parts, k.String()+": "+idList(ns))
		}
	}
	return strings.Join(parts, ", ")
}

func hintText(h *compiler.Hint) string {
	keys := make([]string, 0, len(h.Args))
	for k := range h.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]string, len(keys))
	for i, k := range keys {
		args[i] = fmt.Sprintf("%s=%v", k, literal(h.Args[k]))
	}
	if len(args) == 0 {
		return h.Name
	}
	return h.Name + "(" + strings.Join(args, ", ") + ")"
}

// formatResources shows resources as cpu=1,gpu=1,memory=256MB, cpu
// first.
func formatResources(r map[string]float64) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "cpu") != (keys[j] == "cpu") {
			return keys[i] == "cpu"
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		if k == "memory" {
			parts[i] = "memory=" + bytesize.FormatExact(r[k])
		} else {
			parts[i] = fmt.Sprintf("%s=%g", k, r[k])
		}
	}
	return strings.Join(parts, " ")
}
