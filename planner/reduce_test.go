package planner

import (
	"strings"
	"testing"
)

const reduceSrc = `
@hint(tree_reduce, arity=3)
task add(a, b) {
    return a + b
}

task mul(a, b) {
    return a * b
}

task cat(a, b) {
    return a + b
}

task stamp(a, b) {
    return a + b + time.now()
}

task add3(a, b, c) {
    return a + b + c
}

task unused(a, b) {
    return a
}

@hint(map_reduce)
pipeline main() {
    print(get(reduce(add, [1, 2])), get(reduce(mul, [1, 2])), get(reduce(stamp, [1, 2])))
}

@hint(tree_reduce, arity=5)
pipeline other() {
    print(get(reduce(cat, ["a"])), get(reduce(mul, [1, 2])), get(reduce(add3, [1, 2])))
}
`

// tree_reduce is decided per task: from the task's own hint, from the
// first pipeline that reduces with it, or from --opt, and only for tasks
// passed to reduce; refused for a task that is not a deterministic task
// of two arguments.
func TestDecideTreeReduce(t *testing.T) {
	prog := compileDecide(t, reduceSrc)
	set, report := Decide(prog, Opt{})
	text := report.Text()
	for _, want := range []string{
		"d.rayflow:3:1: tree_reduce applied: reduce(add, futures) runs as a tree of arity 3 (its shape depends only on the number of inputs) (@hint(tree_reduce) at 2:1)",
		"d.rayflow:7:1: tree_reduce applied: reduce(mul, futures) runs as a tree of arity 4 (its shape depends only on the number of inputs) (@hint(map_reduce) at 27:1)",
		"d.rayflow:11:1: tree_reduce applied: reduce(cat, futures) runs as a tree of arity 5 (its shape depends only on the number of inputs) (@hint(tree_reduce) at 32:1)",
		"d.rayflow:15:1: tree_reduce refused: 'stamp' is nondeterministic",
		"d.rayflow:19:1: tree_reduce refused: 'add3' takes 3 arguments; a reduction combines two (@hint(tree_reduce) at 32:1)",
		"d.rayflow:32:1: tree_reduce refused: reduce(mul, ...) is decided once per task, by @hint(map_reduce) at 27:1 (@hint(tree_reduce) at 32:1)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q; it says:\n%s", want, text)
		}
	}
	if strings.Contains(text, "unused") {
		t.Errorf("explain speaks of a task never reduced:\n%s", text)
	}
	want := map[string]int{"add": 3, "mul": 4, "cat": 5}
	if len(set.Reduce) != len(want) {
		t.Errorf("%d reductions decided, want %d", len(set.Reduce), len(want))
	}
	for f, k := range set.Reduce {
		if want[f.Name] != k {
			t.Errorf("reduce(%s) arity %d, want %d", f.Name, k, want[f.Name])
		}
	}

	opt, _ := ParseOpt("tree_reduce")
	set, report = Decide(compileDecide(t, `
task add(a, b) { return a + b }
task unused(a, b) { return a }
pipeline main() { print(get(reduce(add, [1, 2]))) }
`), opt)
	if len(set.Reduce) != 1 || !strings.Contains(report.Text(), "reduce(add, futures) runs as a tree of arity 4 (its shape depends only on the number of inputs) (--opt tree_reduce)") {
		t.Errorf("--opt tree_reduce: %d reductions; explain says:\n%s", len(set.Reduce), report.Text())
	}
}

// `rayflow plan` shows reduce(f, xs) as the node of its calls of f,
// which the driver's get waits for; with tree_reduce it notes the tree
// and how deep it is against the chain, and the header names what the
// plan applied.
func TestPlanShowsReduce(t *testing.T) {
	prog := compileDecide(t, `
task mk(i) { return i }
task add(a, b) { return a + b }
pipeline main() {
    print(get(reduce(add, [mk(i) for i in range(10)])))
}
`)
	for _, c := range []struct {
		opt  string
		want []string
	}{
		{"none", []string{"plan of d.rayflow (rewrites: none)", "t11 reduce(add, [t1..t10]): 10 inputs, 9 calls of add", "<- in list: t1..t10", "get waits for t11"}},
		{"tree_reduce", []string{"plan of d.rayflow (rewrites: tree_reduce)", "note: tree_reduce: a 4-ary tree of the same calls, 5 deep instead of a chain 9 deep"}},
	} {
		g := Build(prog)
		opt, _ := ParseOpt(c.opt)
		set, _ := Decide(prog, opt)
		Annotate(g, set)
		text := g.Text()
		for _, want := range c.want {
			if !strings.Contains(text, want) {
				t.Errorf("--opt %s: plan lacks %q:\n%s", c.opt, want, text)
			}
		}
	}
}

// A reduction's depth is what exec/reduce.go's shape makes it: runs of
// k folded left, level after level.
func TestReductionDepth(t *testing.T) {
	for _, c := range []struct{ n, k, want int64 }{{10, 0, 9}, {10, 4, 5}, {1024, 4, 15}, {2, 4, 1}, {1, 4, 0}, {7, 2, 3}, {-1, 4, -1}} {
		if got := (&Reduction{Inputs: c.n}).Depth(c.k); got != c.want {
			t.Errorf("%d inputs, arity %d: depth %d, want %d", c.n, c.k, got, c.want)
		}
	}
}
