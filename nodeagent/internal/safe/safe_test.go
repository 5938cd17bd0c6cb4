package safe

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// capturePanics sends the reports of recovered panics to a buffer for the
// rest of the test.
func capturePanics(t *testing.T) *testutil.Buffer {
	l := &testutil.Buffer{}
	t.Cleanup(SetOutput(l))
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
		defer Survive("the test loop", stop, loop, done)
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
		defer Survive("the stopped loop", stop, loop, done)
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
		defer Survive("a callback", nil, nil, once)
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
