package owner

import (
	"runtime"
	"sync/atomic"
)

// Finding dropped futures sooner (nodeagent's dropped.go).
//
// A result held elsewhere whose future the program dropped is released
// when the collector finds the future unreachable. A driver's own heap
// grows by a few hundred bytes a task, so its collector may not run for
// thousands of tasks while their large results, each held by a node, add
// up there. So every collectEvery bytes of results this process comes
// to own elsewhere start a collection here (on a goroutine of its own):
// what the nodes hold for futures dropped here then lags by about that
// much.

// collectEvery is how many bytes of results held elsewhere start a
// collection.
const collectEvery = 16 << 20

// collector counts the bytes of results held elsewhere since the last
// collection it started.
type collector struct {
	since   atomic.Int64
	running atomic.Bool
}

// noteRemote counts a result of size bytes held elsewhere, starting a
// collection when collectEvery have come since the last.
func (c *collector) noteRemote(size int64) {
	if size <= 0 || c.since.Add(size) < collectEvery || !c.running.CompareAndSwap(false, true) {
		return
	}
	c.since.Store(0)
	go func() {
		defer c.running.Store(false)
		runtime.GC()
	}()
}
