package nodeagent

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// A driver on a cluster runs none of its work, yet its progress counts
// what it submitted as each result comes back: tasks and method calls
// done or failed, and the actors it created.
func TestDriverProgressCountsItsWork(t *testing.T) {
	head, _ := releaseCluster(t)
	driver := connectDriver(t, head)
	v := runJob(t, driver, "jobp", `
actor A() { method m() { return 1 } }
task f(x) { return x }
task boom() { return 1 / 0 }
pipeline main() {
    let a = A()
    let failed = 0
    try { get(boom()) } catch e { failed = 1 }
    return get(f(1)) + get(f(2)) + get(a.m()) + failed
}`)
	if got := v.String(); got != "5" {
		t.Fatalf("returned %s, want 5", got)
	}
	want := Progress{Submitted: 4, Running: 0, Done: 3, Failed: 1, Actors: 1, InFlight: true}
	var p Progress
	defer func() {
		if t.Failed() {
			t.Logf("the driver's progress: %+v, want %+v", p, want)
		}
	}()
	testutil.Eventually(t, 10*time.Second, "the driver counted every result", func() bool {
		p = driver.Progress()
		return p == want
	})
	if head.Cluster.Progress().InFlight {
		t.Fatal("a head's progress says it counts work in flight; only a driver's does")
	}
}
