package stash

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// A node's stash remembers the keys of the received records it saw
// committed, up to CommittedCap (65,536): each one the driver forwarded
// with a task and then said was committed. Over a long job that set
// filled on every node, at about 88 bytes a key (a Go map of the key
// strings), which `make soak` saw as 35 → 43 MiB of growth on each node
// (issue 15). Held as hashes it takes about 19 bytes a key.
func TestReceivedCommittedKeysAreSmall(t *testing.T) {
	// The least of three fills: anything else alive in the test process
	// (a collection's timing, buffers of other goroutines) only adds to
	// a measure, so the smallest is the stash's own.
	perKey := committedKeyBytes(t)
	for range 2 {
		perKey = min(perKey, committedKeyBytes(t))
	}
	t.Logf("%.1f bytes a committed key", perKey)
	if perKey > 48 {
		t.Fatalf("the stash keeps %.1f bytes a committed key (want at most 48; a map of the strings took 88-99)", perKey)
	}
}

// committedKeyBytes fills a new stash's set of committed keys to its cap
// with received records that the driver then says are committed, and
// returns the heap it grew by, per key.
func committedKeyBytes(t *testing.T) float64 {
	const n = 1 << 16
	s := New(newFakeStore(0), Config{Node: "w1", ReceivedGrace: time.Hour})
	defer closeStash(t, s)
	round := func(lo, hi int) {
		var b Bundle
		for i := lo; i < hi; i++ {
			b.Records = append(b.Records, RecordEntry{Record: rec(fmt.Sprintf("0f3a9c21.%d", 1000000+i), "")})
		}
		s.Receive(b, "driver")
		b = Bundle{}
		for i := lo; i < hi; i++ {
			b.Committed = append(b.Committed, fmt.Sprintf("0f3a9c21.%d", 1000000+i))
		}
		s.Receive(b, "driver")
	}
	round(0, 1024) // the stash's maps at their working size
	before := heapAfterGC()
	for lo := 1024; lo < n; lo += 1024 {
		round(lo, lo+1024)
	}
	perKey := float64(heapAfterGC()-before) / (n - 1024)
	if st := s.Stats(); st.Uncommitted != 0 || st.Committed != n {
		t.Fatalf("%d entries uncommitted, %d committed (want 0, %d)", st.Uncommitted, st.Committed, n)
	}
	runtime.KeepAlive(s)
	return perKey
}

// heapAfterGC is the live heap after a collection.
func heapAfterGC() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
