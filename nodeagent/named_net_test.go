package nodeagent_test

import (
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent"
)

// A detached actor outlives the driver that made it, and while it lives
// the head that owns it keeps its program in use, so that the program
// stays in the GCS (head.ProgramRetention) for a restart elsewhere.
func TestDetachedActorKeepsItsProgramInUse(t *testing.T) {
	head, _, driver, _ := startClusterOf(t, nodeagent.Config{CPUs: -1, NodeID: "head"},
		nodeagent.Config{CPUs: 2, NodeID: "worker-a"})
	if err := runOn(t, driver, `
@name("keeper")
@lifetime("detached")
@resources(cpu=1)
actor Keeper() {
    method ping() { return "pong" }
}
pipeline main() { get(Keeper().ping()) }`); err != nil {
		t.Fatal(err)
	}
	hashes, err := head.Store.ProgramHashes()
	if err != nil || len(hashes) != 1 {
		t.Fatalf("programs stored: %v %v", hashes, err)
	}
	driver.Shutdown("job over")
	gone := time.Now()
	// The head marks the program used when the actor's heartbeat report
	// reaches it: its record is the event.
	testutil.Eventually(t, 10*time.Second, "the head counting the detached actor's program as used after its driver left", func() bool {
		at, ok := nodeagent.ProgramUsedAt(head.Cluster, hashes[0])
		return ok && at.After(gone)
	})
	other, err := nodeagent.ConnectDriver([]string{head.Cluster.Address()}, nodeagent.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Shutdown("test over")
	if err := runOn(t, other, `
pipeline main() {
    let k = actors.get("keeper")
    if get(k.ping()) != "pong" { fail("no pong") }
    kill(k)
}`); err != nil {
		t.Fatal(err)
	}
}
