package nodeagent

import (
	"runtime"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// droppedGroupResults makes large results in a group, a batch, that the
// program never fetches. (A fused chain's results are shared with the
// node it ran on, which keeps them: see dropped.go.)
const droppedGroupResults = `
@hint(batch, size=4)
task big(i) { return nd.full([2000], 1.0 * i) }
pipeline main() {
    let fs = [big(i) for i in range(8)]
    wait(fs, num=8)
    return len(fs)
}`

// The large results of a group's calls whose futures the program dropped
// are released where they were made, as those of calls sent alone
// (TestDroppedResultsAreReleased): a group watches its futures once its
// last call is done, those whose result is held elsewhere.
func TestDroppedGroupResultsAreReleased(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "dropgroup", droppedGroupResults); got.Repr() != "8" {
		t.Fatalf("the job returned %s", got.Repr())
	}
	testutil.Eventually(t, 10*time.Second, "the dropped results released by their holders", func() bool {
		runtime.GC() // the program's futures are collected
		return servedFor("dropgroup", head.Cluster, worker) == 0
	})
}
