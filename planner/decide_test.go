package planner

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/compiler"
	rfexec "github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/stdlib"
)

func compileDecide(t testing.TB, src string) *compiler.Program {
	t.Helper()
	file, err := lang.Parse("d.rayflow", src)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(file, rfexec.Universe(stdlib.Modules()))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

const decideSrc = `
@hint(fuse)
task step(x) {
    return x + 1
}

task clock(x) {
    return [x, time.now()]
}

task noisy(i) {
    print(i)
    return i
}

task square(i) {
    return i * i
}

pipeline main(n: int = 10) {
    let x = step(0)
    for i in range(n) {
        x = step(x)
    }
    let c = clock(1)
    let d = clock(c)
    let total = 0
    for i in range(n) {
        total += get(square(i))
    }
    for i in range(n) {
        total += get(noisy(i))
    }
    let xs = [1, 2]
    for v in xs {
        xs.append(v)
        total += get(square(v))
    }
    print(get(x), get(d), total)
}
`

// Decide applies each hint where it is safe and says why not elsewhere.
func TestDecideAppliesAndRefuses(t *testing.T) {
	prog := compileDecide(t, decideSrc)
	opt, err := ParseOpt("fuse,pipeline,batch")
	if err != nil {
		t.Fatal(err)
	}
	set, report := Decide(prog, opt)
	text := report.Text()
	for _, want := range []string{
		"d.rayflow:21:17: fuse applied: this call of 'step' waits to be sent with the fused call",
		"d.rayflow:23:17: fuse applied: this call of 'step' runs right after the call whose result it takes",
		"d.rayflow:26:18: fuse refused: 'clock' is nondeterministic (it calls time.now() at d.rayflow:8:24)",
		"d.rayflow:26:18: batch refused: 'clock' is nondeterministic",
		"d.rayflow:29:22: pipeline applied: the loop at 28:5 keeps up to 128 calls of 'square' in flight",
		"d.rayflow:32:22: pipeline refused: 'noisy' prints (print at 12:5): starting it early could reorder the output",
		"d.rayflow:37:22: pipeline refused: the loop changes 'xs', which it iterates over",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q; it says:\n%s", want, text)
		}
	}
	if len(set.Loops) != 1 {
		t.Errorf("%d loops run ahead, want 1 (the square loop)", len(set.Loops))
	}
	grouped := 0
	for _, d := range set.Sites {
		if d.Fuse {
			grouped++
		}
	}
	if grouped != 2 {
		t.Errorf("%d fused sites, want 2 (the chain's head and its loop)", grouped)
	}
}

// --opt none turns every hint off, those in the source included; a plan
// is the same on every call (every node plans alike).
func TestDecideNoneAndDeterministic(t *testing.T) {
	prog := compileDecide(t, decideSrc)
	set, report := Decide(prog, Opt{None: true})
	if !set.Empty() || len(report.Decisions) != 0 {
		t.Fatalf("--opt none decided %d things", len(report.Decisions))
	}
	opt, _ := ParseOpt("pipeline,fuse")
	_, a := Decide(prog, opt)
	_, b := Decide(prog, opt)
	if a.Text() != b.Text() {
		t.Fatalf("two plans differ:\n%s\n%s", a.Text(), b.Text())
	}
}

func TestParseOpt(t *testing.T) {
	for in, want := range map[string]string{"": "adaptive", "none": "none", "fuse,batch": "batch,fuse", " pipeline ": "pipeline"} {
		o, err := ParseOpt(in)
		if err != nil || o.Spec() != want {
			t.Errorf("ParseOpt(%q) = %q, %v; want %q", in, o.Spec(), err, want)
		}
	}
	for in, want := range map[string]string{
		"batching":   "unknown optimisation 'batching'; did you mean 'batch'?",
		"none,batch": "none turns every hint off; it cannot be combined with batch",
		"colocate":   "colocate needs to know what to be next to",
	} {
		if _, err := ParseOpt(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOpt(%q) error %v, want %q", in, err, want)
		}
	}
}

// --opt adaptive measures the deterministic sites, and takes the static
// decisions that are safe and never slower (loops run ahead, chains
// fused); nondeterministic sites are left alone.
func TestDecideAdaptive(t *testing.T) {
	prog := compileDecide(t, decideSrc)
	opt, _ := ParseOpt("adaptive")
	set, report := Decide(prog, opt)
	text := report.Text()
	for _, want := range []string{
		"pipeline applied: the loop at 28:5 keeps up to 128 calls of 'square' in flight (--opt adaptive)",
		"fuse applied: this call of 'step' runs right after the call whose result it takes, on the same worker (@hint(fuse) at 2:1)",
		"adaptive applied: calls of 'square' are measured",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q; it says:\n%s", want, text)
		}
	}
	for _, cs := range set.AdaptiveSites() {
		if cs.Callee == "clock" {
			t.Errorf("the nondeterministic 'clock' is adaptive")
		}
	}
}

func TestEveryHint(t *testing.T) {
	if got := EveryHint(); got != "adaptive,batch,fuse,locality,pipeline,spread,template,tree_reduce" {
		t.Fatalf("EveryHint() = %q", got)
	}
}

// A pipeline hint is never left out silently: a loop whose get is under
// an if, a loop that gets several calls and a while loop each say why
// they are not run ahead; a nested loop that can be is.
func TestPipelineSaysWhyNotAhead(t *testing.T) {
	prog := compileDecide(t, `@hint(pipeline, depth=4)
task sq(i) { return i * i }

pipeline main() {
    let t = 0
    for i in range(10) {
        if i > 2 { t += get(sq(i)) }
    }
    for i in range(10) {
        t += get(sq(i)) + get(sq(i + 1))
    }
    let k = 0
    while k < 3 {
        t += get(sq(k))
        k += 1
    }
    for i in range(3) {
        for j in range(2) { t += get(sq(j)) }
    }
    print(t)
}
`)
	_, report := Decide(prog, Opt{})
	text := report.Text()
	for _, want := range []string{
		"d.rayflow:7:29: pipeline refused: the call is not gotten directly in a statement of the loop's body",
		"d.rayflow:10:18: pipeline refused: the loop gets 2 task calls",
		"d.rayflow:10:31: pipeline refused: the loop gets 2 task calls",
		"d.rayflow:14:18: pipeline refused: a while loop is not run ahead",
		"d.rayflow:18:38: pipeline applied: the loop at 18:9",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "pipeline "); n != 5 {
		t.Errorf("%d pipeline decisions, want 5:\n%s", n, text)
	}
	// What adaptive would run ahead it does not explain away loop by loop.
	plain := compileDecide(t, "task sq(i) { return i * i }\npipeline main() {\n    let t = 0\n    for i in range(9) { if i > 2 { t += get(sq(i)) } }\n    print(t)\n}\n")
	if _, report := Decide(plain, Default); strings.Contains(report.Text(), "pipeline refused") {
		t.Errorf("adaptive notes a loop it does not run ahead:\n%s", report.Text())
	}
}

// A bundle none of whose hints applies is refused, not passed over: explain
// said the program asked for no hint.
func TestUnusedBundleIsRefused(t *testing.T) {
	prog := compileDecide(t, "@hint(map_reduce)\npipeline main() {\n    print(1)\n}\n")
	_, report := Decide(prog, Opt{})
	want := "d.rayflow:1:1: map_reduce refused: none of what it turns on (batch, fuse, tree_reduce, locality) applies to the calls 'main' makes (@hint(map_reduce) at 1:1)\n"
	if got := report.Text(); got != want {
		t.Errorf("explain says\n%s\nwant\n%s", got, want)
	}
}
