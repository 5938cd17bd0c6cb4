package serve

import (
	"sync"
	"testing"

	"github.com/rayflow/rayflow/exec"
)

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

	const requests, clients = 4000, 32
	d := app.byRoute["/e"]
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := c; i < requests; i += clients {
				v, err := app.call(d, "inc", []exec.Value{exec.Int(int64(i))}, nil)
				if err == nil && v.AsInt() != int64(i)+1 {
					err = exec.Errorf(exec.KindValue, "inc(%d) answered %s", i, v)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	frames, calls := head.Cluster.ServedFrames()
	t.Logf("%d calls in %d frames", calls, frames)
	if calls != requests {
		t.Fatalf("%d calls sent as served calls, want %d", calls, requests)
	}
	if frames >= calls {
		t.Errorf("%d calls in %d frames: want fewer frames than calls", calls, frames)
	}
}
