package planner

import (
	"fmt"

	"github.com/rayflow/rayflow/compiler"
	"github.com/rayflow/rayflow/lang"
)

// Graph is the planned task graph of a program: one Pipeline per planned
// pipeline, in declaration order.
type Graph struct {
	File      string
	Pipelines []*Pipeline
	// Applied lists the names of the Rewrite passes that ran, in order.
	Applied []string
}

// Pipeline is the static task graph of one pipeline. Items is the graph
// in the order the driver would make it: call nodes, the loops that
// produced them, the driver's waits, and dynamic regions (which hold
// their own items).
type Pipeline struct {
	Name   string
	Func   *compiler.Func
	Params []Param
	Hints  []*compiler.Hint
	Items  []Item
	// Nodes and Regions list every node and region, wherever they sit,
	// in creation order; Nodes includes the ones inside regions.
	Nodes   []*Node
	Regions []*Region
	// Notes are remarks a Rewrite pass wants printed with the pipeline.
	Notes []string
}

// Param is a pipeline parameter as the plan assumed it.
type Param struct {
	Name string
	// Value is the value the plan used, as source text; empty when the
	// parameter has no default and was not given.
	Value string
	// Source is "default", "given" (on the command line) or "unknown".
	Source string
}

// Item is one entry of a pipeline or region: exactly one field is set.
type Item struct {
	Node   *Node
	Region *Region
	Loop   *Loop
	Wait   *Wait
}

// NodeKind is what a call node does.
type NodeKind string

// The kinds of node.
const (
	TaskNode   NodeKind = "task"
	ActorNode  NodeKind = "actor"
	MethodNode NodeKind = "method"
)

// Node is one task call, actor creation or actor method call. Outside
// dynamic regions a node is one call the pipeline will make (or, when
// Count > 1, several calls collapsed by the unroll limit); inside a
// region it is a call site that runs an unknown number of times.
type Node struct {
	ID     string // t1, a1, m1: unique within the pipeline
	Kind   NodeKind
	Callee string // task name, actor name, or Actor.method
	Site   *compiler.CallSite
	Pos    lang.Position
	Args   []Arg
	In     []Edge // dependencies, in the order found
	// Count is how many calls the node stands for: 1, or more for a
	// node that collapses the iterations beyond the unroll limit.
	Count     int64
	Collapsed bool
	// Via is the chain of inlined fn calls that led to this call,
	// outermost first.
	Via    []Inline
	Region *Region // the innermost dynamic region holding it, or nil
	Hints  []*compiler.Hint
	// Notes are remarks a Rewrite pass wants printed with the node.
	Notes []string
	// Reduce is set when the node stands for reduce(f, xs): the calls
	// of f that combine the inputs.
	Reduce *Reduction

	seq     int
	argVals []*val
	args    []*lang.Arg
	names   []string
	edgeIdx map[*Node]int
}

// Inline is one inlined call of a plain fn.
type Inline struct {
	Fn  string
	Pos lang.Position // where it is called
}

// Arg is one argument of a call as the plan shows it: a constant, a
// node ID (a future passed directly) or the source expression.
type Arg struct {
	Name string // parameter name; empty when unknown
	Text string
}

// EdgeKind says how a node depends on another.
type EdgeKind int

// The kinds of dependency, strongest first when a node depends on
// another in several ways.
const (
	// EdgeFuture: the other node's future is a direct argument; the call
	// waits for it.
	EdgeFuture EdgeKind = iota
	// EdgeActor: a method call on the actor the other node created.
	EdgeActor
	// EdgeValue: an argument computed by the driver from the other
	// node's result, after a get.
	EdgeValue
	// EdgeRef: the other node's future is passed inside a list or map,
	// as a future (the callee does not wait for it).
	EdgeRef
	// EdgeHandle: the handle of the actor the other node created is
	// passed as an argument.
	EdgeHandle
)

func (k EdgeKind) String() string {
	switch k {
	case EdgeFuture:
		return "future"
	case EdgeActor:
		return "actor"
	case EdgeValue:
		return "via get"
	case EdgeRef:
		return "in list"
	case EdgeHandle:
		return "handle"
	}
	return fmt.Sprintf("EdgeKind(%d)", int(k))
}

// Edge is a dependency of a node on From.
type Edge struct {
	From *Node
	Kind EdgeKind
}

// Region is a dynamic region: code whose calls are not known before the
// pipeline runs (a while loop, a loop over a value computed at run time,
// a branch on such a value, ...). Its call sites are shown once each.
type Region struct {
	ID     string // r1, r2, ...: unique within the pipeline
	Reason string // "while loop at 12:5"
	Pos    lang.Position
	Items  []Item
	Parent *Region
	// Opaque marks a region kept even without nodes: a call the planner
	// cannot see into.
	Opaque bool

	children map[string]*Region
	byKey    map[string]*Node
	waits    map[string]*Wait
}

// Loop records a loop that was unrolled: how many iterations it has,
// how many are shown as separate nodes, and where its bound came from.
type Loop struct {
	Pos   lang.Position
	Kind  string // "for loop" or "comprehension"
	Iter  string // the iterable as written
	N     int64  // iterations
	Shown int64  // iterations shown one by one; the rest are collapsed
	// Bound says where N came from: "literal", "const NAME", "default
	// of parameter NAME", "parameter NAME as given", or "length of ...".
	Bound string
	// Until is set when the loop may stop early: the iterations after
	// the first are then a dynamic region.
	Until string
}

// Wait is a get in the driver: where it blocks and on what.
type Wait struct {
	Pos lang.Position
	On  []*Node
}

// Edges counts the dependencies of the pipeline.
func (p *Pipeline) Edges() int {
	n := 0
	for _, nd := range p.Nodes {
		n += len(nd.In)
	}
	return n
}

// Node returns the node with the given ID, or nil.
func (p *Pipeline) Node(id string) *Node {
	for _, n := range p.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Pipeline returns the planned pipeline named name, or nil.
func (g *Graph) Pipeline(name string) *Pipeline {
	for _, p := range g.Pipelines {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// addEdge records a dependency, keeping the strongest kind when the
// node already depends on from. It reports whether anything changed.
func (n *Node) addEdge(from *Node, kind EdgeKind) bool {
	if n.edgeIdx == nil {
		n.edgeIdx = map[*Node]int{}
	}
	if i, ok := n.edgeIdx[from]; ok {
		if kind < n.In[i].Kind {
			n.In[i].Kind = kind
			return true
		}
		return false
	}
	n.edgeIdx[from] = len(n.In)
	n.In = append(n.In, Edge{From: from, Kind: kind})
	return true
}

// Reduction is what a reduce(f, xs) node stands for: the len(xs)-1 calls
// of f that combine the inputs, a chain (the left fold) or, with
// tree_reduce, a tree (exec/reduce.go builds the same shape).
type Reduction struct {
	Inputs int64 // len(xs); -1 when the plan does not know it
}

// Depth is how many calls of the reduction run one after the other
// with arity k (below 2: the chain), -1 when the inputs are unknown.
func (r *Reduction) Depth(k int64) int64 {
	n := r.Inputs
	if n < 0 {
		return -1
	}
	if k < 2 {
		return max(n-1, 0)
	}
	var depth int64
	for n > 1 {
		depth += min(k, n) - 1
		n = (n + k - 1) / k
	}
	return depth
}

// text says what the reduction makes: "10 inputs, 9 calls of add".
func (r *Reduction) text(f string) string {
	if r.Inputs < 0 {
		return fmt.Sprintf("len(xs) - 1 calls of %s", f)
	}
	return fmt.Sprintf("%d inputs, %s of %s", r.Inputs, plural(int(max(r.Inputs-1, 0)), "call"), f)
}
