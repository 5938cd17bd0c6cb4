package objstore

import (
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
)

// pooledFloats is a tensor size the pool keeps (a little over
// MinPooledBytes).
const pooledFloats = MinPooledBytes/8 + 1000

// collectedUntil runs the collector until cond holds (finalizers run on
// their own goroutine after a collection), failing the test after 10 s.
func collectedUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, func() bool {
		runtime.GC()
		return cond()
	})
}

// first is the address a buffer starts at, to tell buffers apart.
func first(b []float64) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func TestBufferClassWastesAtMostAnEighth(t *testing.T) {
	for _, n := range []int{1, 8, 9, 100, 1000, 1 << 19, 1<<19 + 1, 12_500_000, 1 << 27} {
		c := bufferClass(n)
		if c < n || c-n > n/8 {
			t.Errorf("class of %d is %d", n, c)
		}
		if bufferClass(c) != c {
			t.Errorf("class of class %d is %d", c, bufferClass(c))
		}
	}
}

// A buffer comes back to the pool once nothing refers to it, and the
// next Get of its class hands it out again instead of allocating.
func TestFreedBufferIsReused(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	b, fresh := p.Get(pooledFloats)
	if !fresh || len(b) != pooledFloats || cap(b) != pooledFloats {
		t.Fatalf("first Get: fresh %v, len %d, cap %d", fresh, len(b), cap(b))
	}
	at := first(b)
	b = nil
	collectedUntil(t, "the dropped buffer back in the pool", func() bool { return p.Stats().Returned == 1 })
	c, fresh := p.Get(pooledFloats - 10) // same class
	if fresh || first(c) != at {
		t.Fatalf("the freed buffer was not reused: fresh %v", fresh)
	}
	if s := p.Stats(); s.Hits != 1 || s.Misses != 1 || s.FreeBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
	runtime.KeepAlive(c)
}

// A buffer is never handed out again while anything can still read it:
// a slice of its middle, as a tensor op or a reader might keep, holds
// all of it. Another buffer dropped at the same time comes back (so the
// collector and the finalizers did run); the held one only once its
// last reader lets go, and what the reader sees never changes.
func TestHeldBufferIsNeverReused(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	held, _ := p.Get(pooledFloats)
	for i := range held {
		held[i] = 7
	}
	heldAt := first(held)
	reader := held[1000:2000:2000] // all that is left of it
	held = nil
	p.Get(pooledFloats) // another, dropped at once
	collectedUntil(t, "the dropped buffer back in the pool", func() bool { return p.Stats().Returned >= 1 })
	for range 3 {
		runtime.GC()
	}
	if s := p.Stats(); s.Returned != 1 {
		t.Fatalf("a buffer with a reader came back: %+v", s)
	}
	for range 3 { // take everything the pool has, and overwrite it
		b, _ := p.Get(pooledFloats)
		if first(b) == heldAt {
			t.Fatal("the pool handed out a buffer a reader still holds")
		}
		for i := range b {
			b[i] = -1
		}
		runtime.KeepAlive(b)
	}
	for i, v := range reader {
		if v != 7 {
			t.Fatalf("the reader's element %d changed to %v", i, v)
		}
	}
	reader = nil
	collectedUntil(t, "the buffer back once its reader let go", func() bool {
		return p.Stats().Returned >= 2 && p.bufferFree(heldAt)
	})
}

// bufferFree reports whether the buffer at addr is in the pool now.
func (p *BufferPool) bufferFree(addr uintptr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, list := range p.free {
		for _, b := range list {
			if first(b.data) == addr {
				return true
			}
		}
	}
	return false
}

// tensorOf is a tensor of n floats, each fill.
func tensorOf(n int, fill float64) exec.Value {
	data := make([]float64, n)
	for i := range data {
		data[i] = fill
	}
	return exec.TensorValue(&exec.Tensor{Shape: []int{n}, Data: data})
}

// receive decodes v's streamed encoding into pool memory, giving the
// decoder at most limit bytes of it (all when limit < 0).
func receive(t *testing.T, p *BufferPool, v exec.Value, limit int64) (exec.Value, error) {
	t.Helper()
	r, size, err := exec.EncodeStream(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := exec.NewTrustedStreamDecoder(nil, size)
	d.UseAllocator(func(n int) []float64 {
		b, _ := p.Get(n)
		return b
	})
	if limit >= 0 {
		size = min(size, limit)
	}
	if err := d.ReadChunk(r, int(size)); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return d.Value()
}

// A tensor received into a reused buffer holds its own bytes only, and a
// stream cut short into a reused buffer yields an error, never a tensor
// showing what the buffer held before.
func TestReceivedTensorNeverShowsAnothersBytes(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	a, err := receive(t, p, tensorOf(pooledFloats, 1), -1)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.AsTensor().Data; got[0] != 1 || got[len(got)-1] != 1 {
		t.Fatal("first tensor wrong")
	}
	a = exec.None
	collectedUntil(t, "the first tensor's memory back in the pool", func() bool { return p.Stats().Returned == 1 })
	b, err := receive(t, p, tensorOf(pooledFloats, 2), -1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stats().Hits != 1 {
		t.Fatalf("the second tensor did not reuse the first's memory: %+v", p.Stats())
	}
	for i, v := range b.AsTensor().Data {
		if v != 2 {
			t.Fatalf("element %d of the second tensor is %v", i, v)
		}
	}
	b = exec.None
	collectedUntil(t, "the second tensor's memory back in the pool", func() bool { return p.Stats().Returned == 2 })
	if v, err := receive(t, p, tensorOf(pooledFloats, 3), 1<<20); err == nil {
		t.Fatalf("a truncated stream gave a tensor of %d floats", len(v.AsTensor().Data))
	}
	if p.Stats().Hits != 2 {
		t.Fatalf("the truncated stream did not go into reused memory: %+v", p.Stats())
	}
}

// Many goroutines take, fill, check and drop buffers while the collector
// hands them back: no buffer is ever held by two of them at once (each
// sees only what it wrote), and the pool is safe for concurrent use
// (run with -race).
func TestBuffersConcurrentlyNeverShared(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				mark := float64(g*1000 + round)
				b, _ := p.Get(pooledFloats)
				for i := range b {
					b[i] = mark
				}
				runtime.GC()
				for i := 0; i < len(b); i += 4096 {
					if b[i] != mark {
						t.Errorf("goroutine %d round %d: element %d is %v", g, round, i, b[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if s := p.Stats(); s.Hits == 0 {
		t.Fatalf("no buffer was reused: %+v", s)
	}
}

// The pool holds at most its limit, and lets go of buffers unused for
// its ttl, so that memory goes back down after a burst.
func TestBufferPoolLimitAndIdleTrim(t *testing.T) {
	class := int64(bufferClass(pooledFloats)) * 8
	p := NewBufferPool(class, 500*time.Millisecond)
	a, _ := p.Get(pooledFloats)
	b, _ := p.Get(pooledFloats)
	runtime.KeepAlive(a) // two buffers in use at once
	runtime.KeepAlive(b)
	collectedUntil(t, "one buffer kept and one let go", func() bool {
		s := p.Stats()
		return s.Returned == 1 && s.Dropped >= 1
	})
	if s := p.Stats(); s.FreeBytes > class {
		t.Fatalf("pool holds %d bytes, over its limit of %d", s.FreeBytes, class)
	}
	testutil.Eventually(t, 10*time.Second, "the idle buffer let go", func() bool {
		s := p.Stats()
		return s.FreeBytes == 0 && s.Dropped == 2
	})
}

// The pool never holds more than an eighth of what the Go memory limit
// leaves above the live heap: under a limit that leaves less than eight
// buffers of room, a freed buffer is let go, however large the pool's
// own limit.
func TestBufferPoolStaysUnderTheMemoryLimit(t *testing.T) {
	class := int64(bufferClass(pooledFloats)) * 8
	p := NewBufferPool(64*class, time.Minute)
	runtime.GC()
	old := debug.SetMemoryLimit(liveHeap() + 4*class)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	a, _ := p.Get(pooledFloats)
	runtime.KeepAlive(a)
	collectedUntil(t, "the freed buffer let go", func() bool { return p.Stats().Dropped == 1 })
	if s := p.Stats(); s.Returned != 0 || s.FreeBytes != 0 {
		t.Fatalf("under a memory limit with room for 4 buffers the pool took one back: %+v", s)
	}
}

// A buffer that died is back for the next Get of its class with no
// collection by anyone else: Get collects when its class ran dry while
// buffers of it are out. A class whose buffers are all in use costs one
// such collection, not one per Get.
func TestGetReclaimsDeadBuffers(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	p.collectGap = 0
	runtime.GC() // so that the heap scanned (collectPays) is this test's
	a, _ := p.Get(pooledFloats)
	at := first(a)
	a = nil
	b, fresh := p.Get(pooledFloats)
	if fresh || first(b) != at {
		t.Fatalf("the dead buffer was not reclaimed: fresh %v, %+v", fresh, p.Stats())
	}
	c, fresh := p.Get(pooledFloats) // b is in use: nothing to reclaim
	if !fresh || first(c) == first(b) {
		t.Fatal("a buffer in use was handed out again")
	}
	collected := p.lastCollect.Load()
	d, fresh := p.Get(pooledFloats)
	if !fresh || p.lastCollect.Load() != collected {
		t.Fatalf("Get collected again for a class with every buffer in use (fresh %v)", fresh)
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	runtime.KeepAlive(d)
}

// A process whose collections would scan more than an eighth of a
// buffer's size does not collect for it: a miss costs less.
func TestNoCollectionForAPoolInALargeHeap(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	p.collectGap = 0
	pointers := make([]*int, pooledFloats) // scanned: as many bytes as the buffer
	runtime.GC()
	a, _ := p.Get(pooledFloats)
	a = nil
	_, fresh := p.Get(pooledFloats)
	if !fresh || p.lastCollect.Load() != 0 {
		t.Fatalf("Get collected in a heap of %d scannable bytes (fresh %v)", scannable(), fresh)
	}
	runtime.KeepAlive(pointers)
	runtime.KeepAlive(a)
}

// Small buffers are plain allocations the pool never sees.
func TestSmallBuffersAreNotPooled(t *testing.T) {
	p := NewBufferPool(1<<30, time.Hour)
	b, fresh := p.Get(1000)
	if !fresh || len(b) != 1000 {
		t.Fatal("small Get")
	}
	b = nil
	for range 3 {
		runtime.GC()
	}
	if s := p.Stats(); s.Misses != 0 || s.Returned != 0 {
		t.Fatalf("a small buffer went through the pool: %+v", s)
	}
	runtime.KeepAlive(b)
}
