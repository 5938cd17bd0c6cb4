package planner

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow/planner/decision"
)

const placeSrc = `
@hint(spread)
task spreadme(i) { return i }

@hint(locality)
task near(a, b) { return a }

@hint(colocate, with=c)
task withc(c, d) { return d }

task work(a, b) { return a }

task nowith(a) { return a }

@hint(spread)
actor Box() {
    method one() { return 1 }
}

pipeline main() {
    let s = spreadme(1)
    let n = near(1, 2)
    let w = withc(3, 4)
    let x = work(1, 2)
    let y = nowith(1)
    let b = Box()
    print(get([s, n, w, x, y]))
}
`

// The placement hints apply where they say, with what they change (a
// colocate without with= or naming no parameter is a compile error).
func TestDecidePlacementHints(t *testing.T) {
	prog := compileDecide(t, placeSrc)
	set, report := Decide(prog, Opt{})
	text := report.Text()
	for _, want := range []string{
		"spread applied: the calls of 'spreadme' from this site go to distinct nodes",
		"locality applied: each call of 'near' runs on the node holding its largest argument",
		"colocate applied: each call of 'withc' runs on the node of its argument 'c'",
		"spread applied: instances of actor 'Box' go to distinct nodes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q:\n%s", want, text)
		}
	}
	places := map[string]decision.Site{}
	for site, d := range set.Sites {
		places[site.Callee] = *d
	}
	if places["spreadme"].Place != decision.PlaceSpread || places["near"].Place != decision.PlaceLocality {
		t.Errorf("spread and locality sites decided %+v", places)
	}
	if d := places["withc"]; d.Place != decision.PlaceColocate || d.With != 0 {
		t.Errorf("colocate(with=c) decided %+v, want colocate with argument 0", d)
	}
	if _, ok := places["work"]; ok {
		t.Errorf("a call without a hint decided %+v", places["work"])
	}
	for _, a := range prog.Actors {
		if set.ActorPlace(a) != decision.PlaceSpread {
			t.Errorf("actor %s: placement %v, want spread", a.Name, set.ActorPlace(a))
		}
	}
	if none, _ := Decide(prog, Opt{None: true}); !none.Empty() {
		t.Errorf("--opt none decided placements: %+v", none)
	}
}

// --opt spread,locality places each task call site by spread (the
// first asked for) and says why locality is not used there.
func TestDecideOnePlacementPerSite(t *testing.T) {
	prog := compileDecide(t, "task f(x) { return x }\npipeline main() { print(get(f(1))) }\n")
	opt, err := ParseOpt("locality,spread")
	if err != nil {
		t.Fatal(err)
	}
	set, report := Decide(prog, opt)
	for _, d := range set.Sites {
		if d.Place != decision.PlaceSpread {
			t.Errorf("decided %+v, want spread", d)
		}
	}
	if text := report.Text(); !strings.Contains(text, "locality refused: this call of 'f' is placed by spread already") {
		t.Errorf("explain:\n%s", text)
	}
}

// A site whose calls go in groups is placed as a group: a placement hint
// there is refused with the reason.
func TestDecidePlacementRefusedOnGroupedSites(t *testing.T) {
	prog := compileDecide(t, "@hint(spread)\n@hint(batch, size=8)\ntask f(x) { return x }\npipeline main() { print(get([f(i) for i in range(3)])) }\n")
	set, report := Decide(prog, Opt{})
	for _, d := range set.Sites {
		if d.Place != decision.PlaceDefault || d.Group != 8 {
			t.Errorf("decided %+v, want a group of 8 placed by default", d)
		}
	}
	if text := report.Text(); !strings.Contains(text, "spread refused: the calls of 'f' from this site go to the scheduler in groups") {
		t.Errorf("explain:\n%s", text)
	}
}

// `rayflow plan` notes a placement decision on the call's node.
func TestAnnotateNotesPlacement(t *testing.T) {
	prog := compileDecide(t, placeSrc)
	g := Build(prog)
	set, _ := Decide(prog, Opt{})
	Annotate(g, set)
	text := g.Text()
	for _, want := range []string{"spread: calls go round-robin to distinct nodes", "locality: runs next to its largest argument", "colocate: runs next to argument 1"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

// A spread call site inside a task body is spread like any other.
func TestDecideSpreadInsideATask(t *testing.T) {
	prog := compileDecide(t, "@hint(spread)\ntask leaf(x) { return x }\ntask outer(n) { return get([leaf(i) for i in range(n)]) }\npipeline main() { print(get(outer(3))) }\n")
	set, report := Decide(prog, Opt{})
	if len(set.Sites) != 1 {
		t.Fatalf("decided %d sites, want the call of leaf in outer:\n%s", len(set.Sites), report.Text())
	}
	for site, d := range set.Sites {
		if site.Enclosing == nil || site.Enclosing.Name != "outer" || d.Place != decision.PlaceSpread {
			t.Errorf("site in %v decided %+v, want spread in outer", site.Enclosing, d)
		}
	}
}

// Adaptive decides what the source did not: at a site the source places
// (spread, locality, colocate, template in a loop) it neither fuses nor
// groups nor runs the loop ahead, and says so; the source's placement
// applies. --opt NAME, asked for by name, keeps its precedence.
func TestAdaptiveGivesWayToSourcePlacement(t *testing.T) {
	prog := compileDecide(t, `
task big(i) { return i }

@hint(locality)
task use(x) { return x }

@hint(colocate, with=x)
task use2(x) { return x }

task ev(i) { return i }

@hint(template)
pipeline main() {
    let b = big(1)
    print(get(use(b)), get(use2(b)))
    let t = 0
    for k in range(20) { t += get(ev(k)) }
    print(t)
}
`)
	set, report := Decide(prog, Default)
	text := report.Text()
	for _, want := range []string{
		"d.rayflow:15:18: fuse refused: this call of 'use' is placed by @hint(locality) at 4:1",
		"d.rayflow:15:18: locality applied",
		"d.rayflow:15:32: colocate applied",
		"d.rayflow:17:35: pipeline refused: the calls of 'ev' are placed by @hint(template) at 12:1",
		"d.rayflow:17:37: adaptive refused: this call of 'ev' is placed by @hint(template) at 12:1",
		"d.rayflow:17:37: template applied",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explain lacks %q; it says:\n%s", want, text)
		}
	}
	for site, dec := range set.Sites {
		if site.Callee == "big" && (dec.Fuse || dec.Grouped()) {
			t.Errorf("'big' starts a fused chain with a call that is placed by locality: %+v", dec)
		}
		if site.Callee != "big" && (dec.Adaptive || dec.Grouped()) {
			t.Errorf("adaptive groups the calls of '%s', which the source places: %+v", site.Callee, dec)
		}
	}
	if len(set.Loops) != 0 {
		t.Errorf("adaptive runs a template loop ahead")
	}
	for _, d := range report.Refused() {
		if strings.HasPrefix(d.Origin, "@hint") {
			t.Errorf("a hint of the source is refused: %s", d.Line())
		}
	}
}
