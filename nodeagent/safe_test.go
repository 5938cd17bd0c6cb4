package nodeagent

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/internal/safe"
)

// capturePanics sends the reports of recovered panics to a buffer for the
// rest of the test.
func capturePanics(t *testing.T) *testutil.Buffer {
	l := &testutil.Buffer{}
	t.Cleanup(safe.SetOutput(l))
	return l
}

// A node's heartbeat loop and dead-node watcher survive a panic: the node
// keeps beating, the watcher runs again, and the node still shuts down.
func TestNodeLoopsSurvivePanics(t *testing.T) {
	log := capturePanics(t)
	head, worker := releaseCluster(t)
	lastBeat := func() int64 {
		for _, n := range head.Membership.All() {
			if n.ID == "worker" && n.State == gcs.NodeAlive {
				return n.LastHeartbeat
			}
		}
		return 0
	}

	worker.net.injectPanic.Store(true)
	testutil.Eventually(t, 10*time.Second, "both loops panic", func() bool {
		out := log.String()
		return strings.Contains(out, "the heartbeat loop panicked") && strings.Contains(out, "the dead-node watcher panicked")
	})
	worker.net.injectPanic.Store(false)
	before := lastBeat()
	testutil.Eventually(t, 5*time.Second, "heartbeats after the panics", func() bool { return lastBeat() > before })
	testutil.Eventually(t, 5*time.Second, "the watcher running again", func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*network).watchLoop")
	})

	stopped := make(chan struct{})
	go func() { worker.Shutdown("test over"); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("a node whose loops panicked does not shut down")
	}
}
