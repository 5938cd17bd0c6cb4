package serve

import "testing"

// Concurrent requests through a head to replicas on another node share
// transport frames: their calls travel to the node in fewer frames than
// there are calls (nodeagent/internal/coalesce), and each request gets
// its own answer.
func TestConcurrentRequestsShareFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a head and a node")
	}
	head, _ := headAndNode(t, 2)
	app := deployOn(t, head.Cluster, "frames", incApp)

	const requests = 4000
	callFromClients(t, app, "inc", requests, 32, func(i int64) int64 { return i + 1 })
	frames, calls := head.Cluster.ServedFrames()
	t.Logf("%d calls in %d frames", calls, frames)
	if calls != requests {
		t.Fatalf("%d calls sent as served calls, want %d", calls, requests)
	}
	if frames >= calls {
		t.Errorf("%d calls in %d frames: want fewer frames than calls", calls, frames)
	}
}
