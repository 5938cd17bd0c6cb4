package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
)

// keep holds what the test allocates, so that the compiler keeps the
// allocations.
var keep []byte

// With a floor of 256 MB, 64 MB of garbage made in small pieces on a
// small heap runs no collection; the same without the floor runs several
// (the default target is twice the live heap, at least 4 MB).
func TestFloorSparesCollectionsOfASmallHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	churn := func() uint32 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.NumGC
		for range 64 << 10 {
			keep = make([]byte, 1024)
		}
		runtime.ReadMemStats(&ms)
		return ms.NumGC - before
	}
	runtime.GC()
	if n := churn(); n < 2 {
		t.Fatalf("without the floor 64 MB of garbage ran %d collections; the test needs several", n)
	}
	if !Start(256 << 20) {
		t.Fatal("Start refused with GOGC unset")
	}
	t.Cleanup(stopRunning)
	runtime.GC()
	if n := churn(); n > 0 {
		t.Errorf("with a 256 MB floor 64 MB of garbage ran %d collections, want none", n)
	}
	// The floor follows the live heap after each collection: with 32 MB
	// live the percent is at most (256-32)/32 = 700%, far below the one
	// Start set for a heap of a few hundred KB.
	held := make([][]byte, 32)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	testutil.Eventually(t, 10*time.Second, "the GC percent set again for 32 MB live", func() bool {
		return gcPercent() <= 700
	})
	runtime.KeepAlive(held)
}

// gcPercent is the GC percent in force.
func gcPercent() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// The percent falls back to the base once the live heap reaches the
// floor.
func TestPercentFollowsTheLiveHeap(t *testing.T) {
	f := &floor{bytes: 64 << 20, base: 100}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 6300}, {4 << 20, 1500}, {32 << 20, 100}, {48 << 20, 100}, {64 << 20, 100}, {1 << 30, 100}, {1 << 20, 6300},
	} {
		if got := f.percent(c.live); got != c.want {
			t.Errorf("percent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}
