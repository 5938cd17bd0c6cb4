package planner

import (
	"fmt"
	"strings"
)

// Dot renders the graph as Graphviz: a cluster per pipeline, nodes
// shaped by kind (task: ellipse, actor: box3d, method: rounded box;
// collapsed nodes doubled), a dashed cluster per dynamic region, the
// driver's gets as diamonds, and edges styled by kind of dependency
// (solid: future argument; bold: actor of a method call; dashed: value
// got by the driver; dotted: future inside a list or actor handle).
func (g *Graph) Dot() string {
	var b strings.Builder
	b.WriteString("digraph rayflow {\n")
	fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", dotString("plan of "+g.File))
	b.WriteString("  rankdir=TB;\n  compound=true;\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, p := range g.Pipelines {
		fmt.Fprintf(&b, "  subgraph cluster_%s {\n", p.Name)
		label := fmt.Sprintf("pipeline %s(%s)\n%s", p.Name, p.paramText(), p.summary())
		for _, h := range p.Hints {
			label += "\nhint " + hintText(h)
		}
		for _, n := range p.Notes {
			label += "\n" + n
		}
		fmt.Fprintf(&b, "    label=%s;\n", dotString(label))
		d := dotWriter{b: &b, p: p, prefix: p.Name + "_"}
		d.items(p.Items, "    ")
		d.edges()
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

type dotWriter struct {
	b      *strings.Builder
	p      *Pipeline
	prefix string
	waits  int
	wait   []string // edges into the get diamonds
}

func (d *dotWriter) id(n *Node) string { return dotString(d.prefix + n.ID) }

func (d *dotWriter) items(items []Item, indent string) {
	for _, it := range items {
		switch {
		case it.Node != nil:
			d.node(it.Node, indent)
		case it.Wait != nil:
			d.waits++
			id := dotString(fmt.Sprintf("%sget%d", d.prefix, d.waits))
			fmt.Fprintf(d.b, "%s%s [label=%s, shape=diamond, fontsize=8];\n", indent, id, dotString("get "+posText(it.Wait.Pos)))
			for _, n := range it.Wait.On {
				d.wait = append(d.wait, fmt.Sprintf("%s -> %s [color=gray50];", d.id(n), id))
			}
		case it.Region != nil:
			r := it.Region
			fmt.Fprintf(d.b, "%ssubgraph cluster_%s%s {\n", indent, d.prefix, r.ID)
			fmt.Fprintf(d.b, "%s  label=%s;\n%s  style=dashed;\n%s  color=gray40;\n", indent, dotString("dynamic "+r.ID+": "+r.Reason), indent, indent)
			if len(r.Items) == 0 {
				fmt.Fprintf(d.b, "%s  %s [label=\"?\", shape=plaintext];\n", indent, dotString(d.prefix+r.ID+"_opaque"))
			}
			d.items(r.Items, indent+"  ")
			fmt.Fprintf(d.b, "%s}\n", indent)
		}
	}
}

func (d *dotWriter) node(n *Node, indent string) {
	label := fmt.Sprintf("%s %s %s", n.ID, n.Kind, n.Callee)
	if args := n.argsText(); args != "" {
		label += "\n(" + args + ")"
	}
	if n.Collapsed {
		label += fmt.Sprintf("\n… ×%d", n.Count)
	}
	label += "\n" + strings.Join(n.annotations(), " ")
	label += "\n" + posText(n.Pos)
	for _, note := range n.Notes {
		label += "\n" + note
	}
	attrs := map[NodeKind]string{
		TaskNode:   "shape=ellipse",
		ActorNode:  "shape=box3d",
		MethodNode: "shape=box, style=rounded",
	}[n.Kind]
	if n.Collapsed {
		attrs += ", peripheries=2"
	}
	fmt.Fprintf(d.b, "%s%s [label=%s, %s];\n", indent, d.id(n), dotString(label), attrs)
}

func (d *dotWriter) edges() {
	for _, n := range d.p.Nodes {
		for _, e := range n.In {
			style := map[EdgeKind]string{
				EdgeFuture: "",
				EdgeActor:  " [style=bold, color=gray30]",
				EdgeValue:  " [style=dashed, label=\"get\"]",
				EdgeRef:    " [style=dotted, label=\"in list\"]",
				EdgeHandle: " [style=dotted, color=gray30, label=\"handle\"]",
			}[e.Kind]
			fmt.Fprintf(d.b, "    %s -> %s%s;\n", d.id(e.From), d.id(n), style)
		}
	}
	for _, w := range d.wait {
		fmt.Fprintf(d.b, "    %s\n", w)
	}
}

// dotString quotes s as a Graphviz string: backslashes and quotes
// escaped, newlines as \n (centred lines).
func dotString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
