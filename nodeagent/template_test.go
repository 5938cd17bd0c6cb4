package nodeagent_test

import (
	"context"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// templateLoop makes the same m calls in each of n iterations and
// gathers them each time.
const templateLoop = `
task work(i, j) { return i * 10 + j }

@hint(template)
pipeline main(n: int = 40, m: int = 4) {
    let total = 0
    for i in range(n) {
        total = total + sum(get([work(i, j) for j in range(m)]))
    }
    return total
}
`

// The answer of templateLoop: sum over i < 40, j < 4 of 10i + j.
const templateLoopAnswer = "31440"

// A template loop on a head and two nodes (the driver offers no
// resources, so every call leaves it) asks the head to place only the
// first iteration's calls: the later iterations go where those went,
// without a Place request. Without the hint every call is placed.
func TestTemplateLoopAsksTheHeadOncePerCall(t *testing.T) {
	head, _, driver, _ := startCluster(t, 2, 1)
	before := nodeagent.PlacementsAsked(head.Cluster)
	if got := runWithOpt(t, driver, templateLoop, "template").String(); got != templateLoopAnswer {
		t.Fatalf("the template loop gave %s, want %s", got, templateLoopAnswer)
	}
	withTemplate := nodeagent.PlacementsAsked(head.Cluster) - before
	if withTemplate > 8 {
		t.Errorf("the head placed %d calls of a 40 x 4 template loop; want about 4 (the first iteration's)", withTemplate)
	}
	if reused := nodeagent.TemplateReused(driver); reused < 40*4-8 {
		t.Errorf("%d calls went where their template call went; want about %d", reused, 40*4-4)
	}
	// Without the hint every call is placed: by the head, or by the
	// driver's own view of the cluster (view.go).
	viewBefore := nodeagent.PlacedOnView(driver)
	before = nodeagent.PlacementsAsked(head.Cluster)
	if got := runWithOpt(t, driver, templateLoop, "none").String(); got != templateLoopAnswer {
		t.Fatalf("without hints the loop gave %s, want %s", got, templateLoopAnswer)
	}
	without := nodeagent.PlacementsAsked(head.Cluster) - before + nodeagent.PlacedOnView(driver) - viewBefore
	if without < 40*4 {
		t.Errorf("without the hint %d calls were placed; want every one of the 160", without)
	}
}

// In an embedded cluster of three nodes the calls that spill are placed
// by the cluster's rule at most once per site and slot under template.
func TestTemplateLoopEmbeddedPlacesOncePerCall(t *testing.T) {
	const busy = `
task work(i, j) {
    let x = 0
    for k in range(20000) { x = x + k % 7 }
    return i * 10 + j + x * 0
}

@hint(template)
pipeline main(n: int = 30, m: int = 6) {
    let total = 0
    for i in range(n) {
        total = total + sum(get([work(i, j) for j in range(m)]))
    }
    print(total)
}
`
	for _, opt := range []string{"template", "none"} {
		c, out := newCluster(t, nodeagent.Config{Nodes: 3, CPUs: 1})
		prog, err := rayflow.Compile("template.rayflow", busy, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prog.Run(context.Background(), rayflow.RunOptions{Cluster: c, Opt: opt}); err != nil {
			t.Fatal(rayflow.FormatError(err, busy))
		}
		expectOutput(t, out, "26550")
		placed := nodeagent.PlacementsAsked(c)
		switch {
		case opt == "template" && placed > 6:
			t.Errorf("under template the cluster placed %d spilled calls; want at most 6 (one per slot)", placed)
		case opt == "none" && placed <= 6:
			t.Errorf("without the hint the cluster placed only %d spilled calls; the test needs calls that spill", placed)
		}
	}
}
