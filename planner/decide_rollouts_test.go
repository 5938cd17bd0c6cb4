package planner

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/planner/decision"
)

// The rollouts bundle cuts a deterministic callee's calls into one unit
// per CPU (PerNode, a group sent when the caller next uses the runtime);
// spread and template are then refused at that site. A nondeterministic
// callee keeps spread and template.
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
		"per_node refused: the calls of 'clock' cannot go in one unit per node: 'clock' is nondeterministic",
		"spread refused: the calls of 'det' from this site go to the scheduler in groups",
		"spread applied: the calls of 'clock'",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
	// --opt none turns the bundle off.
	none, _ := Decide(prog, Opt{None: true})
	for _, d := range none.Sites {
		if d.PerNode {
			t.Errorf("--opt none decided %+v", d)
		}
	}
}
