package sim

import (
	"testing"
	"time"
)

// A small simulated control plane runs end to end against a real head:
// ten agents register with the cluster token, the head answers their
// heartbeats and writes them to its GCS, and the drivers' tasks are
// placed by the head and run by the agents it chose.
func TestSimulatedControlPlane(t *testing.T) {
	r, err := Run(Config{Nodes: 10, Shards: 2, Drivers: 2, Batch: 8, Duration: 300 * time.Millisecond,
		HeartbeatEvery: 100 * time.Millisecond, Port: 30900})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", Header, r)
	if r.Errors != 0 {
		t.Fatalf("%d errors, the first: %s", r.Errors, r.FirstErr)
	}
	if r.Heartbeats == 0 || r.Placements == 0 || r.RaftEntries == 0 {
		t.Fatalf("the head handled nothing: %+v", r)
	}
	if r.Tasks != r.Placements {
		t.Fatalf("%d tasks placed but %d run: a placement named no simulated node", r.Placements, r.Tasks)
	}
}
