package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
)

// releasedResults fetches six large results and passes a seventh on to
// another task without reading it.
const releasedResults = `
task big(i) { return nd.full([2000], 1.0 * i) }
task total(p) { return nd.sum(p) }
pipeline main() {
    let s = 0.0
    for i in range(6) { s += nd.sum(get(big(i))) }
    let kept = big(100)
    s += get(total(kept))
    return s
}`

// A large result its owner fetched, and whose future never left the
// owner, is released where it was made while the job goes on (issue 15:
// memory that stays flat); one whose future went into a fused chain
// (total(kept) runs right after big(100), as one unit) stays until the
// job ends, and then goes. (A future lent to a task alone: borrow_test.go.)
func TestFetchedResultsAreReleasedBeforeTheJobEnds(t *testing.T) {
	head, worker := releaseCluster(t)
	driver := connectDriver(t, head)
	if got := runJob(t, driver, "rel", releasedResults); got.Repr() != "230000.0" { // 2000 × (0+…+5 + 100)
		t.Fatalf("the job returned %s", got.Repr())
	}
	served := func() int { return servedFor("rel", head.Cluster, worker) }
	testutil.Eventually(t, 10*time.Second, "only the result passed on is still served", func() bool { return served() == 1 })
	// The released tasks' lineage rows go from the GCS (task IDs are the
	// job's calls in order: rel.1 to rel.6 fetched, rel.7 passed on).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := driver.FlushLineage(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the released tasks' rows deleted", func() bool {
		for i := 1; i <= 6; i++ {
			if _, err := head.Store.GetTask(fmt.Sprintf("rel.%d", i)); !errors.Is(err, gcs.ErrNotFound) {
				return false
			}
		}
		return true
	})
	if _, err := head.Store.GetTask("rel.7"); err != nil {
		t.Fatalf("the lineage of the result passed on: %v", err)
	}
	driver.endJob("rel")
	if n := served(); n != 0 {
		t.Fatalf("%d results of the ended job are still served", n)
	}
}

// A driver that keeps its results (a job of the Jobs API, which a re-run
// may reuse) releases none before its job ends.
func TestKeepResultsReleasesNothing(t *testing.T) {
	head, worker := releaseCluster(t)
	driver, err := ConnectDriver([]string{head.Cluster.Address()}, Config{KeepResults: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { driver.Shutdown("test over") })
	runJob(t, driver, "keep", releasedResults)
	if n := servedFor("keep", head.Cluster, worker); n != 7 {
		t.Fatalf("%d results are served, want all 7", n)
	}
}
