package planner

import (
	"strings"
	"testing"
)

const templateSrc = `
task work(i) { return i }

@hint(batch, size=8)
task small(i) { return i }

@hint(template)
pipeline main(n: int = 10) {
    let total = work(0)
    for i in range(n) {
        total = get([work(j) for j in range(4)])
        let s = get([small(j) for j in range(4)])
        let k = 0
        while k < 2 {
            total = work(k)
            k += 1
        }
    }
    for i in range(n) {
        total = get(work(i))
    }
}

@hint(template)
pipeline idle() {
    let x = work(1)
    return get(x)
}
`

// template applies to the task calls in a pipeline's outermost loops
// (comprehensions and nested loops included); a grouped site keeps its
// group, a call run ahead its pipeline; a pipeline whose loops make no
// task call is told so.
func TestDecideTemplate(t *testing.T) {
	prog := compileDecide(t, templateSrc)
	opt, _ := ParseOpt("pipeline")
	set, report := Decide(prog, opt)
	text := report.Text()
	for _, want := range []string{
		"d.rayflow:11:26: template applied: the calls of 'work' from this site go where the same call went in an earlier iteration of the loop at 10:5, without asking the head (@hint(template) at 7:1)",
		"d.rayflow:12:27: template refused: the calls of 'small' from this site go to the scheduler in groups (batch or fuse)",
		"d.rayflow:15:25: template applied",
		"d.rayflow:20:25: template refused: the calls of 'work' from this site are started ahead of their iteration (pipeline)",
		"d.rayflow:24:1: template refused: no loop in 'idle' makes task calls",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q; it says:\n%s", want, text)
		}
	}
	for _, d := range report.Refused() {
		if unused := d.Pos.Line == 24; d.Unused != unused {
			t.Errorf("%s: Unused is %v, want %v (only a hint nothing could use is)", d.Line(), d.Unused, unused)
		}
	}
	if len(set.Templates) != 1 {
		t.Fatalf("%d template loops, want 1 (the first outermost loop)", len(set.Templates))
	}
	for _, sites := range set.Templates {
		if len(sites) != 2 {
			t.Errorf("the template loop has %d sites, want 2 (the comprehension's and the nested while's)", len(sites))
		}
		for _, s := range sites {
			if !set.Site(s).Template {
				t.Errorf("site %v is in a template loop but not marked", s.Pos)
			}
		}
	}
	if _, report := Decide(prog, Opt{None: true}); strings.Contains(report.Text(), "template") {
		t.Errorf("--opt none still decided template:\n%s", report.Text())
	}
}
