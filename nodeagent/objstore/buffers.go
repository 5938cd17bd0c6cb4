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
// The pool holds at most max bytes, never more than an eighth of the
// process's Go memory limit, and drops buffers unused for ttl (the
// collector then returns their memory), so that a process's memory goes
// back down after a burst of transfers.
//
// Threading: mu guards free, bytes and the trim timer; Get and the
// finalizers (on the runtime's finalizer goroutine) call in from any
// goroutine. The buffers in free belong to the pool; a buffer Get
// returned belongs to the caller until it is unreachable.
type BufferPool struct {
	max int64
	ttl time.Duration

	mu    sync.Mutex
	free  map[int][]pooledBuffer // by class (floats), most recently freed last
	bytes int64                  // bytes in free
	trim  *time.Timer            // armed while free is not empty

	hits, misses, returned, dropped atomic.Int64
	lastCollect                     atomic.Int64 // when collectSoon last started a collection (Unix ns)
}

// pooledBuffer is a free buffer and when it came back.
type pooledBuffer struct {
	data  []float64 // the whole allocation: len == cap == its class
	since time.Time
}

// NewBufferPool returns a pool that holds at most max bytes of free
// buffers and drops those unused for ttl.
func NewBufferPool(max int64, ttl time.Duration) *BufferPool {
	return &BufferPool{max: max, ttl: ttl, free: map[int][]pooledBuffer{}}
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
	data, last := p.take(class)
	fresh = data == nil
	if fresh {
		p.misses.Add(1)
		data = make([]float64, class)
	} else {
		p.hits.Add(1)
	}
	if last {
		p.collectSoon()
	}
	runtime.SetFinalizer(&data[0], func(first *float64) {
		p.put(unsafe.Slice(first, class))
	})
	return data[:n:n], fresh
}

// take removes a free buffer of the class from the pool, or returns nil;
// last says none of the class is left.
func (p *BufferPool) take(class int) (data []float64, last bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.free[class]
	if len(list) == 0 {
		return nil, true
	}
	b := list[len(list)-1]
	list[len(list)-1] = pooledBuffer{}
	if len(list) == 1 {
		delete(p.free, class)
	} else {
		p.free[class] = list[:len(list)-1]
	}
	p.bytes -= int64(len(b.data)) * 8
	return b.data, len(list) == 1
}

// collectEvery bounds how often collectSoon collects garbage.
const collectEvery = 50 * time.Millisecond

// collectSoon has the Go collector run now, in the background, when the
// pool has no buffer left of a class just asked for: the buffers handed
// out before are likely dead by now (a task read its tensor and
// returned), and only a collection brings them back, while a large
// allocation only starts one when the heap has doubled. At most one
// runs at a time, and at most one per collectEvery.
func (p *BufferPool) collectSoon() {
	now := time.Now().UnixNano()
	last := p.lastCollect.Load()
	if now-last < int64(collectEvery) || !p.lastCollect.CompareAndSwap(last, now) {
		return
	}
	go runtime.GC()
}

// put takes back a buffer nothing refers to any more (its finalizer
// ran), or lets the collector have it when the pool is full.
func (p *BufferPool) put(data []float64) {
	size := int64(len(data)) * 8
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+size > p.capLocked() {
		p.dropped.Add(1)
		return
	}
	p.returned.Add(1)
	p.free[len(data)] = append(p.free[len(data)], pooledBuffer{data: data, since: time.Now()})
	p.bytes += size
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
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
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

// Drop lets the collector have every free buffer now.
func (p *BufferPool) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropIdleLocked(time.Now().Add(time.Hour))
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
