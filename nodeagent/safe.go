package nodeagent

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// Background goroutines and panics.
//
// A bug that panics in a background loop (heartbeats, the membership
// monitor, the dead-node watcher) must not take the whole process down:
// a head that crashes loses the cluster's membership, a node its objects.
// Each such goroutine defers survivePanic first thing: a panic is logged
// to stderr with its stack, and the loop starts again after a pause; the
// process keeps serving.

// restartPause is how long a loop that panicked waits before it runs
// again, so that one that panics every time does not spin.
const restartPause = 500 * time.Millisecond

// panicLog is where recovered panics are reported (stderr; tests swap it).
var panicLog = struct {
	sync.Mutex
	w io.Writer
}{w: os.Stderr}

// survivePanic, deferred first thing in a goroutine, keeps a panic in it
// from crashing the process. The panic is logged to stderr with its
// stack; then, if restart is set and stop has not closed, restart runs on
// a new goroutine after restartPause (restart is the loop itself, which
// defers survivePanic again). done, if not nil, is closed once the
// goroutine has ended for good: it returned, or it panicked and is not
// restarted. A nil stop never closes.
func survivePanic(name string, stop <-chan struct{}, restart func(), done chan struct{}) {
	r := recover()
	if r == nil {
		closeIfSet(done)
		return
	}
	logPanic(name, r, debug.Stack())
	if restart == nil {
		closeIfSet(done)
		return
	}
	go func() {
		t := time.NewTimer(restartPause)
		defer t.Stop()
		select {
		case <-stop:
			closeIfSet(done)
		case <-t.C:
			restart()
		}
	}()
}

func closeIfSet(ch chan struct{}) {
	if ch != nil {
		close(ch)
	}
}

// logPanic reports a recovered panic and where it happened.
func logPanic(name string, r any, stack []byte) {
	panicLog.Lock()
	defer panicLog.Unlock()
	fmt.Fprintf(panicLog.w, "rayflow: internal error: %s panicked: %v; the process keeps running (please report this as a bug)\n%s\n", name, r, stack)
}
