package planner

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/planner/decision"
)

// The rollouts bundle cuts a deterministic callee's calls into one unit
// per CPU (PerNode, a group sent when the caller next uses the runtime),
// which supersedes the bundle's spread and template at that site,
// without a refusal (run would warn of it). A nondeterministic callee
// keeps spread and template.
func TestDecideRolloutsPerNode(t *testing.T) {
	prog := compileDecide(t, `
task det(i) { return i * 2 }
task clock(i) { return time.now() }

@hint(rollouts)
pipeline main() {
    for it in range(3) {
        print(get([det(i) for i in range(8)]))
        print(len(get([clock(i) for i in range(8)])))
    }
}
`)
	set, report := Decide(prog, Opt{})
	for site, d := range set.Sites {
		switch site.Callee {
		case "det":
			if !d.PerNode || d.Group != decision.MaxGroup || d.Place != decision.PlaceDefault || d.Template {
				t.Errorf("det: decided %+v, want one unit per node (PerNode, group %d), no spread, no template", d, decision.MaxGroup)
			}
		case "clock":
			if d.PerNode || d.Grouped() || d.Place != decision.PlaceSpread || !d.Template {
				t.Errorf("clock: decided %+v, want spread and template, no group", d)
			}
		}
	}
	text := report.Text()
	for _, want := range []string{
		"per_node applied: the calls of 'det' made before the caller next waits go in one unit per CPU",
		"spread applied: the calls of 'clock'",
		"template applied: the calls of 'clock'",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
	if refused := report.Refused(); len(refused) > 0 {
		t.Errorf("refused %v; want nothing refused", refused)
	}
	// By default (adaptive on) the bundle's per_node stands and adaptive
	// gives way to it without a refusal.
	_, report = Decide(prog, Default)
	if refused := report.Refused(); len(refused) > 0 {
		t.Errorf("by default refused %v; want nothing refused", refused)
	}
	if text := report.Text(); !strings.Contains(text, "per_node applied: the calls of 'det'") {
		t.Errorf("by default explain lacks per_node for 'det':\n%s", text)
	}
	// --opt none turns the bundle off.
	none, _ := Decide(prog, Opt{None: true})
	for _, d := range none.Sites {
		if d.PerNode {
			t.Errorf("--opt none decided %+v", d)
		}
	}
}
