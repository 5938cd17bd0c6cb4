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
