package rayflow_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// Each hint that changes how calls go to the runtime does its work on a
// real run (run --explain counts it), and the run prints what it prints
// with --opt none.
func TestHintsDoTheirWork(t *testing.T) {
	for _, c := range []struct {
		name, src, opt, count string
		nodes                 int // 1 when not given
	}{
		{"pipeline", `
task sq(i) { return i * i }
pipeline main() {
    let t = 0
    for i in range(200) { t += get(sq(i)) }
    print(t)
}`, "pipeline", `(\d+) calls started early`, 0},
		{"batch", `
@hint(batch, size=50)
task sq(i) { return i * i }
pipeline main() { print(sum(get([sq(i) for i in range(200)]))) }`, "", `(\d+) calls went to the scheduler in \d+ groups`, 0},
		{"fuse", `
task inc(x) { return x + 1 }
pipeline main() {
    let x = inc(0)
    for i in range(199) { x = inc(x) }
    print(get(x))
}`, "fuse", `(\d+) calls went to the scheduler in \d+ groups`, 0},
		{"spread", `
@hint(spread)
task sq(i) { return i * i }
pipeline main() { print(sum(get([sq(i) for i in range(6)]))) }`, "", `(\d+) calls placed by a placement hint`, 3},
		{"tree_reduce", `
task make(i) { return nd.full([100], i) }
@hint(tree_reduce, arity=4)
task add(a, b) { return a + b }
pipeline main() { print(nd.sum(get(reduce(add, [make(i) for i in range(64)])))) }`, "", `(\d+) calls of reductions ran as trees, at most 9 deep`, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog, err := rayflow.Compile(c.name+".rayflow", c.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			run := func(opt string) (out, explain string) {
				var o, e bytes.Buffer
				cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: max(c.nodes, 1), CPUs: 2, Stdout: &o})
				if err != nil {
					t.Fatal(err)
				}
				defer cluster.Shutdown("test over")
				if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster, Opt: opt, Explain: &e}); err != nil {
					t.Fatal(err)
				}
				return o.String(), e.String()
			}
			want, _ := run("none")
			got, explain := run(c.opt)
			if got != want {
				t.Fatalf("printed %q, without hints %q", got, want)
			}
			m := regexp.MustCompile(c.count).FindStringSubmatch(explain)
			if m == nil {
				t.Fatalf("--explain does not say what the hint did:\n%s", explain)
			}
			if n, _ := strconv.Atoi(m[1]); n == 0 {
				t.Fatalf("the hint did nothing:\n%s", explain)
			}
		})
	}
}

// A run-ahead loop that breaks out early has started at most about as
// many calls it never gets as it got: the window grows with the loop.
func TestPipelineBreakWastesLittle(t *testing.T) {
	prog, err := rayflow.Compile("brk.rayflow", `
task sq(i) { return i * i }
pipeline main() {
    let t = 0
    for i in range(100000) {
        t += get(sq(i))
        if i == 40 { break }
    }
    print(t)
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out, explain bytes.Buffer
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, CPUs: 2, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Shutdown("test over")
	if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: cluster, Opt: "pipeline", Explain: &explain}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\d+) calls started early`).FindStringSubmatch(explain.String())
	if m == nil {
		t.Fatalf("explain:\n%s", explain.String())
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 || n > 2*41+8 {
		t.Fatalf("%d calls started early for a loop that got 41", n)
	}
}

// RunValues (the REPL's way to run) plans as Run does: --opt turns
// hints on, a refused hint of the source is warned about, and Explain
// says what the plan did at run time.
func TestRunValuesRunsThePlan(t *testing.T) {
	prog, err := rayflow.Compile("values.rayflow", `
@hint(fuse)
task stamp(x) { return [x, time.now() > 0] }
task sq(i) { return i * i }
pipeline main() {
    let t = 0
    for i in range(200) { t += get(sq(i)) }
    print(t, get(stamp(stamp(1)))[1])
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := nodeagent.NewCluster(nodeagent.Config{Nodes: 1, CPUs: 2, Stdout: new(bytes.Buffer)})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Shutdown("test over")
	var warn, explain bytes.Buffer
	opts := rayflow.RunOptions{Cluster: cluster, Opt: "pipeline", Warn: &warn, Explain: &explain}
	if _, err := prog.RunValues(context.Background(), opts, nil); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`[1-9]\d* calls started early`).MatchString(explain.String()) {
		t.Errorf("RunValues with --opt pipeline ran no loop ahead; explain:\n%s", explain.String())
	}
	if want := "fuse refused: 'stamp' is nondeterministic"; !bytes.Contains(warn.Bytes(), []byte(want)) {
		t.Errorf("RunValues warned %q, want a line with %q", warn.String(), want)
	}
	if _, err := prog.RunValues(context.Background(), rayflow.RunOptions{Cluster: cluster, Opt: "bogus"}, nil); err == nil {
		t.Error("RunValues ran with --opt bogus")
	}
}
