package planner_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/compiler"
	rfexec "github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/planner"
	"github.com/rayflow/rayflow/stdlib"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func compile(t *testing.T, path string) *compiler.Program {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := lang.Parse(path, string(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	prog, err := compiler.Compile(file, rfexec.Universe(stdlib.Modules()))
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return prog
}

func plan(t *testing.T, path string, opts planner.Options) *planner.Graph {
	t.Helper()
	g, err := planner.Plan(compile(t, path), opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./planner -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestGolden plans every program in testdata and compares the text and
// Graphviz output with the golden files; the examples are planned and
// their Graphviz checked.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.rayflow")
	examples, _ := filepath.Glob("../examples/*.rayflow")
	files = append(files, examples...)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".rayflow")
		prefix := "testdata/" + name
		t.Run(name, func(t *testing.T) {
			g := plan(t, f, planner.Options{})
			dot := g.Dot()
			checkDot(t, dot)
			if strings.HasPrefix(f, "../examples") {
				// The examples change with the project: no golden
				// file, only a plan that Graphviz reads.
				return
			}
			golden(t, prefix+".txt", g.Text())
			golden(t, prefix+".dot", dot)
		})
	}
}

// checkDot runs Graphviz on the output when it is installed, and checks
// brackets and quotes otherwise.
func checkDot(t *testing.T, dot string) {
	t.Helper()
	depth, inString := 0, false
	for i := 0; i < len(dot); i++ {
		c := dot[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
		case !inString && (c == '}' || c == ']'):
			depth--
		}
		if depth < 0 {
			t.Fatalf("unbalanced brackets in dot output at byte %d", i)
		}
	}
	if depth != 0 || inString {
		t.Fatalf("unbalanced dot output: depth %d, open string %v", depth, inString)
	}
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Log("graphviz not installed; skipping dot -Tsvg")
		return
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin = strings.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dot -Tsvg: %v\n%s\n%s", err, stderr.String(), dot)
	}
	if stderr.Len() > 0 {
		t.Errorf("dot -Tsvg warned: %s", stderr.String())
	}
}

func count(p *planner.Pipeline, kind planner.NodeKind) int {
	n := 0
	for _, nd := range p.Nodes {
		if nd.Kind == kind {
			n++
		}
	}
	return n
}

func deps(n *planner.Node) []string {
	var out []string
	for _, e := range n.In {
		out = append(out, e.From.ID+"/"+e.Kind.String())
	}
	return out
}

func TestMapReduce(t *testing.T) {
	p := plan(t, "testdata/map_reduce.rayflow", planner.Options{}).Pipelines[0]
	if len(p.Nodes) != 5 || p.Edges() != 4 {
		t.Fatalf("got %d nodes and %d edges, want 5 and 4", len(p.Nodes), p.Edges())
	}
	reduce := p.Node("t5")
	if reduce.Callee != "total" || strings.Join(deps(reduce), " ") != "t1/via get t2/via get t3/via get t4/via get" {
		t.Errorf("reduce = %s %v", reduce.Callee, deps(reduce))
	}
	if got := p.Node("t3").Args[0]; got.Name != "x" || got.Text != "2" {
		t.Errorf("square's third call has argument %+v, want x=2", got)
	}
}

func TestChain(t *testing.T) {
	p := plan(t, "testdata/chain.rayflow", planner.Options{}).Pipelines[0]
	want := map[string]string{
		"t2": "t1/future",
		"t3": "t1/future t2/future",
		"t4": "t3/future",
		"t5": "t4/future",
		"t6": "t5/future",
	}
	for id, w := range want {
		if got := strings.Join(deps(p.Node(id)), " "); got != w {
			t.Errorf("%s depends on %q, want %q", id, got, w)
		}
	}
	// steps=5 on the command line unrolls further.
	p = plan(t, "testdata/chain.rayflow", planner.Options{Params: map[string]string{"steps": "5"}}).Pipelines[0]
	if count(p, planner.TaskNode) != 8 {
		t.Errorf("with steps=5: %d tasks, want 8", count(p, planner.TaskNode))
	}
}

func TestWhileIsDynamic(t *testing.T) {
	p := plan(t, "testdata/while.rayflow", planner.Options{}).Pipelines[0]
	if len(p.Regions) != 1 || !strings.HasPrefix(p.Regions[0].Reason, "while loop at 8:5") {
		t.Fatalf("regions = %+v", p.Regions)
	}
	n := p.Node("t2")
	if n.Region != p.Regions[0] || strings.Join(deps(n), " ") != "t1/future t2/future" {
		t.Errorf("t2 in %v depends on %v; want the region, t1 and itself", n.Region, deps(n))
	}
}

func TestActors(t *testing.T) {
	p := plan(t, "testdata/actors.rayflow", planner.Options{}).Pipelines[0]
	if count(p, planner.ActorNode) != 1 || count(p, planner.MethodNode) != 3 || count(p, planner.TaskNode) != 1 {
		t.Fatalf("nodes: %d actors, %d methods, %d tasks", count(p, planner.ActorNode), count(p, planner.MethodNode), count(p, planner.TaskNode))
	}
	if got := strings.Join(deps(p.Node("m2")), " "); got != "a1/actor" {
		t.Errorf("m2 deps %s", got)
	}
	if got := strings.Join(deps(p.Node("t1")), " "); got != "a1/handle" {
		t.Errorf("t1 deps %s", got)
	}
	if p.Node("m2").Callee != "Counter.inc" {
		t.Errorf("callee %s", p.Node("m2").Callee)
	}
}

func TestInline(t *testing.T) {
	p := plan(t, "testdata/inline.rayflow", planner.Options{})
	pp := p.Pipelines[0]
	train := pp.Node("t2")
	if train.Callee != "train" || len(train.Via) != 1 || train.Via[0].Fn != "run" {
		t.Fatalf("t2 = %s via %+v", train.Callee, train.Via)
	}
	load := pp.Node("t1")
	if len(load.Via) != 2 || load.Via[1].Fn != "prepare" || load.Args[0].Text != "scale(i)" {
		t.Errorf("t1 via %+v args %+v", load.Via, load.Args)
	}
	if got := strings.Join(deps(train), " "); got != "t1/future" {
		t.Errorf("train deps %s", got)
	}
	// A recursive fn, or one beyond the inlining depth, is shown as an
	// opaque region.
	shallow := plan(t, "testdata/inline.rayflow", planner.Options{InlineDepth: 2}).Pipelines[0]
	found := false
	for _, r := range shallow.Regions {
		if strings.Contains(r.Reason, "countdown") {
			found = true
		}
	}
	if !found {
		t.Errorf("no region for the recursive fn: %d regions", len(shallow.Regions))
	}
}

func TestUnrollLimit(t *testing.T) {
	p := plan(t, "testdata/unroll.rayflow", planner.Options{}).Pipelines[0]
	var collapsed []*planner.Node
	for _, n := range p.Nodes {
		if n.Collapsed {
			collapsed = append(collapsed, n)
		}
	}
	if count(p, planner.TaskNode) != 17+6 || len(collapsed) != 1 || collapsed[0].Count != 4 {
		t.Fatalf("%d tasks, collapsed %v", count(p, planner.TaskNode), collapsed)
	}
	p = plan(t, "testdata/unroll.rayflow", planner.Options{Unroll: 2}).Pipelines[0]
	var counts []int64
	for _, n := range p.Nodes {
		if n.Collapsed {
			counts = append(counts, n.Count)
		}
	}
	// f: 2 shown + 18; g: outer 2 shown, inner 2 shown + 1 each.
	if len(counts) != 3 || counts[0] != 18 {
		t.Errorf("collapsed counts %v", counts)
	}
	text := planner.Build(compile(t, "testdata/unroll.rayflow")).Text()
	if !strings.Contains(text, "bound: const N") {
		t.Errorf("the loop's bound is not named:\n%s", text)
	}
}

func TestBranches(t *testing.T) {
	p := plan(t, "testdata/branches.rayflow", planner.Options{}).Pipelines[0]
	text := planner.Build(compile(t, "testdata/branches.rayflow")).Text()
	if strings.Contains(text, "log(") {
		t.Errorf("the branch on a false const was planned:\n%s", text)
	}
	var reasons []string
	for _, r := range p.Regions {
		reasons = append(reasons, r.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"iterations 2..4 of the for loop at 19:5 (it may stop at the break at 22:13)", "for loop over a value known only at run time"} {
		if !strings.Contains(all, want) {
			t.Errorf("no region %q in\n%s", want, all)
		}
	}
}

func TestSelectPipeline(t *testing.T) {
	prog := compile(t, "testdata/multi.rayflow")
	g, err := planner.Plan(prog, planner.Options{Pipeline: "other"})
	if err != nil || len(g.Pipelines) != 1 || g.Pipelines[0].Name != "other" {
		t.Fatalf("got %v, %v", g, err)
	}
	if len(g.Pipelines[0].Regions) != 1 {
		t.Errorf("range(k) without a default should be dynamic")
	}
	if _, err := planner.Plan(prog, planner.Options{Pipeline: "nope"}); err == nil || !strings.Contains(err.Error(), "pipelines: main, other") {
		t.Errorf("err = %v", err)
	}
}

func TestHintsAndRewrites(t *testing.T) {
	prog := compile(t, "testdata/map_reduce.rayflow")
	// No @hint is known yet, so attach them by hand as the compiler will.
	prog.Pipelines[0].Hints = []*compiler.Hint{{Name: "batch", Args: map[string]any{"size": int64(4)}}}
	for _, f := range prog.Funcs {
		if f.Name == "square" {
			f.Hints = []*compiler.Hint{{Name: "gpu"}}
		}
	}
	mark := planner.Rewrite{Name: "mark", Apply: func(g *planner.Graph, p *planner.Pipeline) error {
		p.Notes = append(p.Notes, "marked")
		p.Nodes[0].Notes = append(p.Nodes[0].Notes, "first")
		return nil
	}}
	g, err := planner.Plan(prog, planner.Options{Rewrites: []planner.Rewrite{mark}})
	if err != nil {
		t.Fatal(err)
	}
	text := g.Text()
	for _, want := range []string{"rewrites: mark", "hint batch(size=4)", "hint gpu", "note: marked", "note: first"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	checkDot(t, g.Dot())
	fail := planner.Rewrite{Name: "fail", Apply: func(*planner.Graph, *planner.Pipeline) error { return errors.New("boom") }}
	if _, err := planner.Plan(prog, planner.Options{Rewrites: []planner.Rewrite{fail}}); err == nil || !strings.Contains(err.Error(), "fail: boom") {
		t.Errorf("err = %v", err)
	}
	if len(planner.Rewrites) != 0 {
		t.Errorf("the default rewrites should be empty until hints exist")
	}
}
