package objstore

import (
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Buffers is the process's pool of large tensor buffers: the memory of
// tensors received from other processes (exec.StreamDecoder with
// Buffers.Get as its allocator) comes from it, and goes back to it when
// the Go collector finds that nothing refers to it any more. A 100 MB
// tensor received into fresh memory costs 25,600 page faults, into
// memory the Go heap reused costs Go's zeroing of 100 MB; into a pooled
// buffer it costs neither, as the bytes that arrive overwrite it whole.
var Buffers = NewBufferPool(512<<20, 5*time.Second)

// MinPooledBytes is the smallest buffer the pool keeps: below it Go's
// allocator costs little next to the bytes that fill it.
const MinPooledBytes = 4 << 20

// BufferPool keeps freed large []float64 buffers by size class, for
// reuse by the next tensor of that class.
//
// A buffer handed out by Get carries a finalizer on its first element;
// the Go collector runs it only once no pointer into the buffer is left
// anywhere (a tensor, a slice of it, a byte view, a goroutine reading
// into it), and only then does the buffer come back to the pool. So a
// buffer can never be handed out again while anything can still read or
// write it: reuse needs no reference counting by the store's users.
//
// The pool holds at most max bytes, never more than an eighth of what
// the process's Go memory limit leaves above the live heap, and drops
// buffers unused for ttl (the collector then returns their memory), so
// that a process's memory goes back down after a burst of transfers.
// Free buffers are not objects of any job: the store's accounting and
// the jobs' memory caps count the tensors (by their length) as before.
//
// Threading: mu guards free, bytes, out, barren, back and the trim
// timer; Get and the finalizers (on the runtime's finalizer goroutine)
// call in from any goroutine. The buffers in free belong to the pool; a
// buffer Get returned belongs to the caller until it is unreachable.
type BufferPool struct {
	max        int64
	ttl        time.Duration
	collectGap time.Duration // the least time between two collections the pool starts

	mu     sync.Mutex
	free   map[int][]pooledBuffer // by class (floats), most recently freed last
	bytes  int64                  // bytes in free
	out    map[int]int            // by class: buffers handed out and not back yet
	barren map[int]bool           // classes a reclaim found nothing of, until one comes back
	back   chan struct{}          // closed (and replaced) when a buffer comes back
	trim   *time.Timer            // armed while free is not empty

	hits, misses, returned, dropped atomic.Int64
	lastCollect                     atomic.Int64 // when a collection was last started here (Unix ns)
}

// pooledBuffer is a free buffer and when it came back.
type pooledBuffer struct {
	data  []float64 // the whole allocation: len == cap == its class
	since time.Time
}

// NewBufferPool returns a pool that holds at most max bytes of free
// buffers and drops those unused for ttl.
func NewBufferPool(max int64, ttl time.Duration) *BufferPool {
	return &BufferPool{max: max, ttl: ttl, collectGap: 50 * time.Millisecond,
		free: map[int][]pooledBuffer{}, out: map[int]int{}, barren: map[int]bool{}, back: make(chan struct{})}
}

// bufferClass is the size class of a buffer of n floats: n rounded up to
// an eighth of its power of two, so a pooled buffer wastes at most 1/8.
func bufferClass(n int) int {
	if n <= 8 {
		return n
	}
	step := 1 << (bits.Len(uint(n-1)) - 4)
	return (n + step - 1) / step * step
}

// Get returns a buffer of n floats (len and cap n) whose contents are
// unspecified: the caller overwrites all of them before anyone reads it.
// fresh says it was allocated now (the Go allocator zeroed it, or its
// pages are not in memory yet) rather than reused from the pool.
func (p *BufferPool) Get(n int) (buf []float64, fresh bool) {
	if n*8 < MinPooledBytes {
		return make([]float64, n), true
	}
	class := bufferClass(n)
	data, last, others := p.take(class)
	if data == nil && others && p.reclaim(class) {
		data, last, others = p.take(class)
	}
	fresh = data == nil
	if fresh {
		p.misses.Add(1)
		data = make([]float64, class)
	} else {
		p.hits.Add(1)
		if last && others {
			p.collectSoon(class)
		}
	}
	runtime.SetFinalizer(&data[0], func(first *float64) {
		p.put(unsafe.Slice(first, class))
	})
	return data[:n:n], fresh
}

// take removes a free buffer of the class from the pool, or returns nil;
// last says none of the class is left, others that buffers of the class
// are handed out besides the caller's. Either way the caller now holds
// one more buffer of the class.
func (p *BufferPool) take(class int) (data []float64, last, others bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out[class]++
	others = p.out[class] > 1
	list := p.free[class]
	if len(list) == 0 {
		return nil, true, others
	}
	b := list[len(list)-1]
	list[len(list)-1] = pooledBuffer{}
	if len(list) == 1 {
		delete(p.free, class)
	} else {
		p.free[class] = list[:len(list)-1]
	}
	p.bytes -= int64(len(b.data)) * 8
	return b.data, len(list) == 1, others
}

// reclaimWait is the most reclaim waits for a buffer to come back after
// its collection: a miss costs far more (100 MB of fresh memory: ~30 ms
// of page faults here). Once the collection's own finalizers have run
// (sentinel), it waits reclaimGrace more at most: a process that keeps
// its tensors (a driver) then loses ~1 ms, not 10.
const (
	reclaimWait  = 10 * time.Millisecond
	reclaimGrace = time.Millisecond
)

// sentinel returns a channel closed by the finalizer of an object that
// is garbage at once: the next collection queues it with the finalizers
// of the buffers it finds dead.
func sentinel() <-chan struct{} {
	done := make(chan struct{})
	obj := new([64]byte) // not a tiny allocation, which its neighbours could keep alive
	runtime.SetFinalizer(obj, func(*[64]byte) { close(done) })
	return done
}

// reclaim runs when Get finds no free buffer of a class while others of
// it are handed out: they are likely dead (a task read its tensor and
// returned) but only a collection brings them back, so it collects now
// and waits (at most reclaimWait) for one to come back. It reports
// whether it collected. So the first tensor of a class in a fresh
// process is received into fresh memory, the next ones into the memory
// of one before them. A class for which a reclaim found nothing (its
// buffers are all still in use) is not reclaimed again until one of its
// buffers comes back, so that keeping many tensors costs no collections.
func (p *BufferPool) reclaim(class int) bool {
	p.mu.Lock()
	barren, back := p.barren[class], p.back
	p.mu.Unlock()
	if barren || !collectPays(class) || !p.mayCollect() {
		return false
	}
	swept := sentinel()
	runtime.GC()
	timer := time.NewTimer(reclaimWait)
	defer timer.Stop()
	select {
	case <-back:
	case <-timer.C:
	case <-swept:
		// The collection's finalizers are running or done: a buffer
		// that came back in the same batch is a moment away at most.
		timer.Reset(reclaimGrace)
		select {
		case <-back:
		case <-timer.C:
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out[class]-- // take counts it again
	if len(p.free[class]) == 0 {
		p.barren[class] = true
	}
	return true
}

// mayCollect reports whether the pool may start a collection now (at
// most one per collectGap), and notes it if so.
func (p *BufferPool) mayCollect() bool {
	now := time.Now().UnixNano()
	last := p.lastCollect.Load()
	return now-last >= int64(p.collectGap) && p.lastCollect.CompareAndSwap(last, now)
}

// collectSoon has the Go collector run now, in the background, when Get
// took the last free buffer of a class while others are out: those are
// likely dead by now (a task read its tensor and returned), and only a
// collection brings them back, while a large allocation starts one only
// when the heap has doubled. So the next Get finds one without waiting.
// At most one collection per collectGap.
func (p *BufferPool) collectSoon(class int) {
	if collectPays(class) && p.mayCollect() {
		go runtime.GC()
	}
}

// collectPays reports whether a collection likely costs less than a
// fresh buffer of class floats: faulting in fresh memory costs ~0.3 ms a
// MB here, marking ~2 ms per MB of scannable memory (a tensor's floats
// are not scanned), so at most an eighth of the buffer's size may be
// scannable. A process with a large heap of values never collects for
// the pool.
func collectPays(class int) bool {
	size := int64(class) * 8
	return scannable() <= size/8
}

// scannable is the memory a collection scans (heap, stacks, globals).
func scannable() int64 {
	if v, ok := runtimeMetric("/gc/scan/total:bytes"); ok {
		return v
	}
	return math.MaxInt64
}

// runtimeMetric reads one of the runtime's counters (runtime/metrics);
// ok is false when this runtime does not have it.
func runtimeMetric(name string) (v int64, ok bool) {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return int64(s[0].Value.Uint64()), true
}

// put takes back a buffer nothing refers to any more (its finalizer
// ran), or lets the collector have it when the pool is full.
func (p *BufferPool) put(data []float64) {
	size := int64(len(data)) * 8
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out[len(data)]--; p.out[len(data)] <= 0 {
		delete(p.out, len(data))
	}
	delete(p.barren, len(data))
	if p.bytes+size > p.capLocked() {
		p.dropped.Add(1)
		return
	}
	p.returned.Add(1)
	p.free[len(data)] = append(p.free[len(data)], pooledBuffer{data: data, since: time.Now()})
	p.bytes += size
	close(p.back)
	p.back = make(chan struct{})
	if p.trim == nil {
		p.trim = time.AfterFunc(p.ttl, p.trimIdle)
	}
}

// capLocked is the most the pool may hold now: max, and at most an
// eighth of the Go memory limit left above the live heap, so that
// pooled memory never pushes the process toward its limit.
func (p *BufferPool) capLocked() int64 {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return p.max
	}
	room := (limit - liveHeap()) / 8
	return max(min(p.max, room), 0)
}

// liveHeap is the heap the last collection found live, in bytes.
func liveHeap() int64 {
	v, _ := runtimeMetric("/gc/heap/live:bytes")
	return v
}

// trimIdle drops the buffers unused for ttl, and runs again while any
// are left.
func (p *BufferPool) trimIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropIdleLocked(time.Now().Add(-p.ttl))
	if p.bytes > 0 {
		p.trim = time.AfterFunc(p.ttl, p.trimIdle)
	} else {
		p.trim = nil
	}
}

// dropIdleLocked drops the free buffers that came back before cutoff.
func (p *BufferPool) dropIdleLocked(cutoff time.Time) {
	for class, list := range p.free {
		kept := list[:0]
		for _, b := range list {
			if b.since.After(cutoff) {
				kept = append(kept, b)
				continue
			}
			p.bytes -= int64(len(b.data)) * 8
			p.dropped.Add(1)
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(p.free, class)
		} else {
			p.free[class] = kept
		}
	}
}

// BufferStats are a pool's counters: buffers reused (hits) and allocated
// (misses) by Get, taken back when freed (returned) and let go (dropped:
// the pool was full, or they stayed unused), and the bytes free now.
type BufferStats struct {
	Hits, Misses, Returned, Dropped int64
	FreeBytes                       int64
}

// Stats returns the pool's counters.
func (p *BufferPool) Stats() BufferStats {
	p.mu.Lock()
	free := p.bytes
	p.mu.Unlock()
	return BufferStats{Hits: p.hits.Load(), Misses: p.misses.Load(), Returned: p.returned.Load(), Dropped: p.dropped.Load(), FreeBytes: free}
}
