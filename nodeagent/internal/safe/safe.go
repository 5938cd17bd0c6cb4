package safe

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// RestartPause is how long a loop that panicked waits before it runs
// again, so that one that panics every time does not spin.
const RestartPause = 500 * time.Millisecond

// panicLog is where recovered panics are reported (stderr; SetOutput swaps it).
var panicLog = struct {
	sync.Mutex
	w io.Writer
}{w: os.Stderr}

// Survive, deferred first thing in a goroutine, keeps a panic in it
// from crashing the process. The panic is logged to stderr with its
// stack; then, if restart is set and stop has not closed, restart runs on
// a new goroutine after RestartPause (restart is the loop itself, which
// defers Survive again). done, if not nil, is closed once the
// goroutine has ended for good: it returned, or it panicked and is not
// restarted. A nil stop never closes.
func Survive(name string, stop <-chan struct{}, restart func(), done chan struct{}) {
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
		t := time.NewTimer(RestartPause)
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

// SetOutput sends the reports of recovered panics to w until the returned
// function restores the previous writer (for tests).
func SetOutput(w io.Writer) (restore func()) {
	panicLog.Lock()
	old := panicLog.w
	panicLog.w = w
	panicLog.Unlock()
	return func() {
		panicLog.Lock()
		panicLog.w = old
		panicLog.Unlock()
	}
}
