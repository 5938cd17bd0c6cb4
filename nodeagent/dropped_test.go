package nodeagent

import (
	"runtime"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// droppedResults makes large results the program never fetches: it waits
// for them and lets their futures go.
const droppedResults = `
task big(i) { return nd.full([2000], 1.0 * i) }
pipeline main() {
    let fs = [big(i) for i in range(4)]
    wait(fs, num=4)
    return len(fs)
}`

// A large result whose future the program dropped without fetching it is
// released where it was made while the job goes on (issue 15): the
// driver's runtime watches the futures it hands the program, and when
// the collector takes one, the holder's copy goes as a fetch would have
// released it. Before, such a result stayed until the job ended.
func TestDroppedResultsAreReleased(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "drop", droppedResults); got.Repr() != "4" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the dropped results released by their holders", func() bool {
		runtime.GC() // the program's futures are collected
		s1, _ := heldFor(head.Cluster, "drop")
		s2, _ := heldFor(worker, "drop")
		return s1+s2 == 0
	})
}
