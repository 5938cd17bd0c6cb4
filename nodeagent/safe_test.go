package nodeagent

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/internal/testutil"
)

// lockedLog collects what survivePanic reports.
type lockedLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// capturePanics sends the reports of recovered panics to a buffer for the
// rest of the test.
func capturePanics(t *testing.T) *lockedLog {
	l := &lockedLog{}
	panicLog.Lock()
	old := panicLog.w
	panicLog.w = l
	panicLog.Unlock()
	t.Cleanup(func() {
		panicLog.Lock()
		panicLog.w = old
		panicLog.Unlock()
	})
	return l
}

// A loop that panics is logged with its stack and started again; it ends
// for good, closing done, when it returns or when stop closes.
func TestSurvivePanicRestartsLoop(t *testing.T) {
	log := capturePanics(t)
	stop, done := make(chan struct{}), make(chan struct{})
	var runs atomic.Int64
	var loop func()
	loop = func() {
		defer survivePanic("the test loop", stop, loop, done)
		if runs.Add(1) <= 2 {
			panic("boom")
		}
		<-stop
	}
	go loop()
	testutil.Eventually(t, 5*time.Second, "two restarts", func() bool { return runs.Load() == 3 })
	out := log.String()
	if strings.Count(out, "the test loop panicked: boom") != 2 || !strings.Contains(out, "safe_test.go") {
		t.Fatalf("log does not report both panics with their stack:\n%s", out)
	}
	select {
	case <-done:
		t.Fatal("done closed while the loop runs")
	default:
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("done not closed after stop")
	}
}

// A loop that panics after its stop is not started again, and a
// goroutine without a restart just ends: either way done closes.
func TestSurvivePanicWithoutRestart(t *testing.T) {
	log := capturePanics(t)
	stop, done := make(chan struct{}), make(chan struct{})
	close(stop)
	var runs atomic.Int64
	var loop func()
	loop = func() {
		defer survivePanic("the stopped loop", stop, loop, done)
		runs.Add(1)
		panic("late")
	}
	go loop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("done not closed")
	}
	once := make(chan struct{})
	go func() {
		defer survivePanic("a callback", nil, nil, once)
		var m map[string]int
		m["x"] = 1
	}()
	select {
	case <-once:
	case <-time.After(5 * time.Second):
		t.Fatal("done not closed after a one-off panic")
	}
	// done closes only once a goroutine has ended for good (it will not
	// be restarted), so no wait is needed before counting the runs.
	if runs.Load() != 1 || !strings.Contains(log.String(), "a callback panicked") {
		t.Fatalf("runs %d, log:\n%s", runs.Load(), log.String())
	}
}

// The head's membership monitor and its change callback survive a panic:
// after one, silent nodes are still declared dead.
func TestMembershipSurvivesPanics(t *testing.T) {
	log := capturePanics(t)
	st := openStore(t)
	m := NewMembership(st, 100*time.Millisecond)
	defer m.Close()
	m.setOnChange(func() { panic("callback bug") })
	m.mu.Lock()
	m.members["broken"] = nil // makes the monitor panic
	m.mu.Unlock()
	testutil.Eventually(t, 5*time.Second, "a monitor panic", func() bool {
		return strings.Contains(log.String(), "the membership monitor panicked")
	})
	m.mu.Lock()
	delete(m.members, "broken")
	m.mu.Unlock()
	if _, err := m.Register("a", "127.0.0.1:1", map[string]float64{"cpu": 1}, false); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the silent node declared dead", func() bool {
		info, err := st.GetNode("a")
		return err == nil && info.State == gcs.NodeDead
	})
	testutil.Eventually(t, 5*time.Second, "the callback's panic logged", func() bool {
		return strings.Contains(log.String(), "the membership change callback panicked: callback bug")
	})
}

// A node's heartbeat loop and dead-node watcher survive a panic: the node
// keeps beating, the watcher runs again, and the node still shuts down.
func TestNodeLoopsSurvivePanics(t *testing.T) {
	log := capturePanics(t)
	head, worker := releaseCluster(t)
	hs := worker.net.heads
	lastBeat := func() int64 {
		for _, n := range head.Membership.All() {
			if n.ID == "worker" && n.State == gcs.NodeAlive {
				return n.LastHeartbeat
			}
		}
		return 0
	}

	// A negative index into a list of two heads makes every look at it
	// panic: the heartbeat loop's and the watcher's.
	hs.mu.Lock()
	heads := hs.addrs
	hs.addrs = append([]string{"127.0.0.1:1"}, heads...)
	hs.cur = -1
	hs.mu.Unlock()
	testutil.Eventually(t, 10*time.Second, "both loops panic", func() bool {
		out := log.String()
		return strings.Contains(out, "the heartbeat loop panicked") && strings.Contains(out, "the dead-node watcher panicked")
	})
	hs.mu.Lock()
	hs.addrs, hs.cur = heads, 0
	hs.mu.Unlock()
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
