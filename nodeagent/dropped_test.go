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
		return servedFor("drop", head.Cluster, worker) == 0
	})
}

// fetchedInALoop fetches each large result as soon as it is made: the
// program's future is unreachable once get has taken its object, and get
// waits a while for the task (it sleeps) before it fetches.
const fetchedInALoop = `
task big(i) {
    time.sleep(0.002)
    return [float(i)] * 20000
}
pipeline main() {
    let s = 0.0
    for i in range(300) { s = s + get(big(i))[0] }
    return s
}`

// A future being read by get is not dropped under it: get keeps the
// future alive until the value is here. Before, a collection while get
// waited for the task, holding only the future's object, made the
// result's arrival release it at its holder, racing get's fetch ("is
// not held by this node"; make soak met it at round 19,859). Here the
// collector runs all the time, so that every wait sees collections.
func TestGetKeepsItsFutureUntilFetched(t *testing.T) {
	head, _ := releaseCluster(t)
	driver := connectDriver(t, head)
	stop := make(chan struct{})
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	got := runJob(t, driver, "loop", fetchedInALoop)
	close(stop)
	<-collected
	if got.Repr() != "44850.0" {
		t.Fatalf("the job returned %s", got.Repr())
	}
}
