package nodeagent_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/nodeagent"
)

// A lineage batch write that a head has not finished handling holds no
// task frame back: while the head holds the driver's first write
// (wire.GCSPutTaskBatch, on the driver's one connection to the head), a
// second job's tasks are sent to the head and the node in frames on the
// same connections, run, and their results come back. (Issue 15: the
// frames of a 400,000-task run were suspected to queue behind the
// stash's writes; the head handles each request of a connection on a
// goroutine of its own, so they do not.)
func TestFramesPassHeldLineageWrite(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{})
	var heldOnce sync.Once
	var driverID atomic.Pointer[string]
	nodeagent.HoldGCSBatches(t, func(from string) {
		if id := driverID.Load(); id == nil || from != *id {
			return // only the driver's writes share its frames' connection
		}
		heldOnce.Do(func() { close(held) })
		<-release
	})
	_, _, driver, out := startCluster(t, 1, 1)
	id := driver.Head().ID
	driverID.Store(&id)
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before the cluster stops (cleanups run last first)

	// The first job's records make the driver's flusher write a batch,
	// which the head holds.
	if err := runOn(t, driver, `
task where(i) { return sys.node() }
pipeline main() { print(len(get([where(i) for i in range(200)]))) }
`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the driver's lineage write never reached the head")
	}

	done := make(chan error, 1)
	go func() {
		done <- runOn(t, driver, `
task where(i) { return sys.node() }
pipeline main() {
    let nodes = get([where(i) for i in range(400)])
    print("on the head:", len([n for n in nodes if n == "head"]) > 0)
    print("on the node:", len([n for n in nodes if n == "worker-a"]) > 0)
}
`)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the job's task frames waited behind the held lineage write")
	}
	select {
	case <-release:
		t.Fatal("the lineage write was let go before the job ended")
	default:
	}
	got := out.String()
	for _, want := range []string{"on the head: true", "on the node: true"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	letGo()
}
