package nodeagent_test

import (
	"strings"
	"testing"

	"github.com/rayflow/rayflow"
	"github.com/rayflow/rayflow/nodeagent"
)

// On a cluster, the calls of a spread site are placed round-robin on
// the driver's own view of the cluster, without a Place request to the
// head: three calls go to the three processes, though the head has the
// most room (the view alone would put them all there).
func TestSpreadCallsArePlacedOnTheView(t *testing.T) {
	head, _, driver, out := startClusterOf(t, nodeagent.Config{CPUs: 16, NodeID: "head"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-a"}, nodeagent.Config{CPUs: 2, NodeID: "worker-b"})
	src := `
@hint(spread)
task where(i) { return sys.node() }

pipeline main() {
    for round in range(3) {
        print(sorted(get([where(i) for i in range(3)])))
    }
}`
	before := nodeagent.PlacementsAsked(head.Cluster)
	viewBefore := nodeagent.PlacedOnView(driver)
	if err := runOn(t, driver, src); err != nil {
		t.Fatal(rayflow.FormatError(err, src))
	}
	row := `["head", "worker-a", "worker-b"]`
	if got, want := strings.TrimSpace(out.String()), row+"\n"+row+"\n"+row; got != want {
		t.Errorf("printed:\n%s\nwant:\n%s", got, want)
	}
	onView := nodeagent.PlacedOnView(driver) - viewBefore
	if asked := nodeagent.PlacementsAsked(head.Cluster) - before; asked > 1 || onView < 8 {
		t.Errorf("of 9 spread calls the head placed %d and the driver's view %d; want about 0 and 9", asked, onView)
	}
}
