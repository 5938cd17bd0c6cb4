package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// floor is the running floor: its size and the percent the process
// would have without it. After Start, the cleanup chain (adjust) and
// stop touch it, under mu.
type floor struct {
	bytes  uint64
	base   int
	sample []metrics.Sample

	mu      sync.Mutex
	stopped bool // stop ran: adjust sets nothing and watches no more
}

// running is the floor Start started last, which a later Start stops
// first (a test starts one per run).
var (
	runningMu sync.Mutex
	running   *floor
)

// Start keeps the heap target at least bytes from now on, unless the
// GOGC environment variable is set (the user chose the collector's
// pace) or the collector is off. It returns whether it did.
func Start(bytes uint64) bool {
	if os.Getenv("GOGC") != "" || bytes == 0 {
		return false
	}
	runningMu.Lock()
	defer runningMu.Unlock()
	if running != nil {
		running.stop()
		running = nil
	}
	base := debug.SetGCPercent(100)
	if base < 0 {
		debug.SetGCPercent(base)
		return false
	}
	f := &floor{bytes: bytes, base: base, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	running = f
	f.adjust()
	return true
}

// stop ends the floor: the percent goes back to the base, and the next
// collection sets nothing.
func (f *floor) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	debug.SetGCPercent(f.base)
}

// stopRunning stops the floor Start started, if any (tests).
func stopRunning() {
	runningMu.Lock()
	defer runningMu.Unlock()
	if running != nil {
		running.stop()
		running = nil
	}
}

// sentinel is what the floor watches to learn that a collection ended:
// large enough not to share a tiny allocation block with other values.
type sentinel struct{ _ [64]byte }

// adjust sets the GC percent for the live heap now and watches for the
// next collection to do it again.
func (f *floor) adjust() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	debug.SetGCPercent(f.percent(f.live()))
	s := new(sentinel)
	runtime.AddCleanup(s, func(f *floor) { f.adjust() }, f)
}

// live is the heap the last collection found live (0 before the first).
func (f *floor) live() uint64 {
	metrics.Read(f.sample)
	if f.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return f.sample[0].Value.Uint64()
}

// percent is the GC percent that makes the target (live × (1 +
// percent/100)) reach the floor, or the base percent when that is
// larger.
func (f *floor) percent(live uint64) int {
	if live == 0 {
		live = 1 << 20
	}
	if live >= f.bytes {
		return f.base
	}
	return max(int((f.bytes-live)*100/live), f.base)
}
