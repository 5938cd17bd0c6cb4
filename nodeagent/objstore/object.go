package objstore

import (
	"sync"
	"sync/atomic"

	"github.com/rayflow/rayflow/exec"
)

// Object is one entry of a process's objects: the result of a task, a
// method call or a put, the handle behind an exec.Future. It is written
// once (Complete); readers wait on Done.
//
// A million queued tasks keep a million Objects (issue 15: ~400 bytes a
// queued task), so an Object holds inline only what every object needs
// and stays in the 128-byte size class (TestObjectIsSmall): what only an
// object whose value lives elsewhere, or is large, or came from another
// process needs is in its far record, made the first time one of those
// is set.
type Object struct {
	id   string
	name string // what produces it, for messages

	mu sync.Mutex
	// state is the ready bit (readable without mu), the shared bit and,
	// for a method call, its order (see the state bits below).
	state atomic.Uint64
	val   exec.Value
	err   *exec.Error
	// done is made when a reader first waits for the object not ready
	// yet (Done) and closed by Complete: most objects are never waited
	// for that way, and a channel is 96 bytes a task.
	done chan struct{}
	// waiters run once when the object becomes ready, in the order they
	// came (the list holds them last first).
	waiters  *waiter
	producer Producer // the task producing it, while it runs or waits
	// far holds the fields of an object whose value is large or lives in
	// another process, or that came from another process; nil for most.
	// Made once, under mu; read through the atomic pointer, so that
	// Owner need not lock.
	far atomic.Pointer[farSide]
}

// The bits of Object.state. The order of a method call is its place in
// the order its actor ran calls, plus one (0 until it ran), shifted by
// orderShift.
const (
	readyBit   = 1 << 0 // Complete ran; val and err are written
	sharedBit  = 1 << 1 // a reference left this process (MarkShared)
	orderShift = 2
)

// waiter is one function OnReady was given.
type waiter struct {
	f    func()
	next *waiter
}

// farSide is what an object keeps only when its value is large or lives
// in another process, or when another process owns it.
type farSide struct {
	big     *Handle // a large value, kept by the node's store (val is then None)
	remote  string  // address of the process holding the value, when elsewhere
	fetcher Fetcher // how to fetch it from there
	// size is the encoded size of a large value held elsewhere, as its
	// holder reported it (0 when unknown); a value held here has it in
	// its store handle.
	size int64
	// owner is, for a future another process passed here inside a value,
	// the address of the process that owns it: it keeps the lineage, so
	// it can rebuild the value if the process holding it died. Set before
	// the object is shared; "" when this process owns it.
	owner string
	// release is told when the value, held by another process for this
	// one alone, was fetched here (SetReleaser); nil for none, and never
	// told once the object is shared (the state's shared bit): another
	// process may then fetch the value from where it lives, so it is not
	// released there when it is fetched here.
	release *ReleaseTo

	// fetching is held by the one reader that fetches (or rebuilds) a
	// remote value, so concurrent readers share one fetch. It is never
	// taken while mu is held, and mu is never held across the fetch: the
	// fetch and a rebuild wait on the network and on other goroutines
	// (the spiller) that lock mu.
	fetching sync.Mutex
}

// farLocked returns the object's far record, making it if need be; mu is
// held (or the object is not shared yet).
func (o *Object) farLocked() *farSide {
	f := o.far.Load()
	if f == nil {
		f = &farSide{}
		o.far.Store(f)
	}
	return f
}

// Fetcher brings the value of an object held by another process here:
// it fetches it from the process at addr, or rebuilds it (from its
// lineage, or by asking its owner) when that process lost it. Package
// owner implements it; an object keeps the Fetcher it was told of by
// SetRemote.
type Fetcher interface {
	FetchObject(o *Object, addr string) (exec.Value, *exec.Error)
}

// Releaser is told that the value of an object owned here, held by the
// process at addr, was fetched here while no other process had a
// reference to it: the copy at addr is needed no more. Package owner
// implements it.
type Releaser interface {
	Released(o *Object, addr string)
}

// ReleaseTo is a Releaser as an object holds it (one pointer); made once
// per Releaser by NewReleaseTo.
type ReleaseTo struct{ r Releaser }

// NewReleaseTo returns the ReleaseTo of r.
func NewReleaseTo(r Releaser) *ReleaseTo { return &ReleaseTo{r: r} }

// Producer is the task that produces an object, while it runs or waits:
// cancelling the object's future cancels it.
type Producer interface {
	Cancel(reason string)
}

// NewObject returns an object not ready yet.
func NewObject(id, name string) *Object {
	return &Object{id: id, name: name}
}

// ObjectOf returns the object behind a future (nil if it has none).
func ObjectOf(f *exec.Future) *Object {
	o, _ := f.Handle.(*Object)
	return o
}

// ID is the object's ID (its task's or call's).
func (o *Object) ID() string { return o.id }

// Name says what makes the object, for messages.
func (o *Object) Name() string { return o.name }

// closedDone is the Done of every ready object.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Done is closed when the object is ready.
func (o *Object) Done() <-chan struct{} {
	if o.IsReady() {
		return closedDone
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.IsReady() {
		return closedDone
	}
	if o.done == nil {
		o.done = make(chan struct{})
	}
	return o.done
}

// setBits sets bits in the state, keeping the rest.
func (o *Object) setBits(bits uint64) { o.state.Or(bits) }

// SetProducer records the task that produces the object. It is called
// before the object is shared.
func (o *Object) SetProducer(p Producer) { o.producer = p }

// Producer is the task producing the object, or nil once it is ready.
func (o *Object) Producer() Producer {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.producer
}

// SetOwner records the address of the process that owns an object
// passed here inside a value. It is called before the object is shared.
func (o *Object) SetOwner(addr string) {
	if addr == "" && o.far.Load() == nil {
		return
	}
	o.farLocked().owner = addr
}

// Owner is the address of the process that owns the object, or "" when
// this process does.
func (o *Object) Owner() string {
	if f := o.far.Load(); f != nil {
		return f.owner
	}
	return ""
}

// SetOrder records, for a method call, its place in the order its actor
// ran calls, plus one.
func (o *Object) SetOrder(seq uint64) {
	for {
		old := o.state.Load()
		if o.state.CompareAndSwap(old, old&(1<<orderShift-1)|seq<<orderShift) {
			return
		}
	}
}

// Order is what SetOrder recorded (0 until the call ran).
func (o *Object) Order() uint64 { return o.state.Load() >> orderShift }

// SetBig records that the node's store keeps the object's (large) value.
func (o *Object) SetBig(h *Handle) {
	o.mu.Lock()
	if h != nil || o.far.Load() != nil {
		o.farLocked().big = h
	}
	o.mu.Unlock()
}

// Big is the store's handle on the object's value, or nil when the
// store does not keep it.
func (o *Object) Big() *Handle {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f := o.far.Load(); f != nil {
		return f.big
	}
	return nil
}

// SetRemote records that the object's value lives in another process,
// and its encoded size when known (0 otherwise); f fetches it.
func (o *Object) SetRemote(addr string, size int64, f Fetcher) {
	o.mu.Lock()
	far := o.farLocked()
	far.remote, far.size, far.fetcher = addr, size, f
	o.mu.Unlock()
}

// WhereAndSize says, for a ready object, where its value lives ("" for
// this process) and its encoded size, or 0 when the size is not known or
// the value is small (it travels inline). The global scheduler weighs
// arguments by it.
func (o *Object) WhereAndSize() (string, int64) {
	if o.far.Load() == nil { // most: nothing to read under the lock (as RemoteLocation)
		return "", 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	far := o.far.Load()
	if !o.IsReady() || o.err != nil || far == nil {
		return "", 0
	}
	size := far.size
	if far.big != nil {
		size = far.big.Size()
	}
	return far.remote, size
}

// SetReleaser makes r told when the value, held by another process, is
// fetched here while the object is not shared (see Releaser). Nothing
// changes for an object shared already.
func (o *Object) SetReleaser(r *ReleaseTo) {
	o.mu.Lock()
	if o.state.Load()&sharedBit == 0 && (r != nil || o.far.Load() != nil) {
		o.farLocked().release = r
	}
	o.mu.Unlock()
}

// MarkShared records that a reference to the object leaves this process
// (inside a value, as a task's argument, in recorded lineage). It is
// called before the reference's location is read, so that a fetch that
// ends at the same time either sees the mark (and releases nothing) or
// has cleared the location first (and the reference names this process).
// The mark is one atomic write, not taken under mu: every reader of it
// (SetReleaser, Drop, a fetch) loads it once under mu, so it sees the
// mark or not as if MarkShared had run wholly before or after it, as
// with the lock (a group's calls mark each call's result they take: one
// lock less a call).
func (o *Object) MarkShared() { o.setBits(sharedBit) }

// Drop is told that no future of the object is left in this process: a
// value held by another process and never fetched here will not be read
// here, so its Releaser is told now, as a fetch would have told it.
// Nothing for a value held here, a shared object or one without a
// Releaser; the Releaser is told once.
func (o *Object) Drop() {
	far := o.far.Load()
	if far == nil {
		return
	}
	o.mu.Lock()
	r, addr := far.release, far.remote
	if addr == "" || r == nil || o.state.Load()&sharedBit != 0 {
		o.mu.Unlock()
		return
	}
	far.release = nil
	o.mu.Unlock()
	r.r.Released(o, addr)
}

// SharedLocation marks the object shared (MarkShared) and returns where
// its value lives, "" when here.
func (o *Object) SharedLocation() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.setBits(sharedBit)
	return o.remoteLocked()
}

// RemoteLocation is where the value lives, or "" when it is here. An
// object with no far side (most) answers without the lock: its far side
// is made under it, and one made after this read is a location set
// after it.
func (o *Object) RemoteLocation() string {
	if o.far.Load() == nil {
		return ""
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.remoteLocked()
}

// remoteLocked is where the value lives, "" when here; mu is held.
func (o *Object) remoteLocked() string {
	if f := o.far.Load(); f != nil {
		return f.remote
	}
	return ""
}

// Complete stores the value or error and wakes every waiter. Only the
// first completion counts. node, where the value was made, is not kept:
// nothing reads it (and an Object stays small).
func (o *Object) Complete(val exec.Value, err *exec.Error, node string) bool {
	o.mu.Lock()
	if o.IsReady() {
		o.mu.Unlock()
		return false
	}
	o.val, o.err, o.producer = val, err, nil
	o.setBits(readyBit)
	done := o.done
	waiters := o.waiters
	o.waiters = nil
	o.mu.Unlock()
	if done != nil {
		close(done)
	}
	runWaiters(waiters)
	return true
}

// runWaiters runs the waiters of a list (last first) in the order they
// came.
func runWaiters(last *waiter) {
	var first *waiter
	for last != nil { // reverse the list
		next := last.next
		last.next, first = first, last
		last = next
	}
	for w := first; w != nil; w = w.next {
		w.f()
	}
}

// OnReady runs f when the object is ready (at once if it is).
func (o *Object) OnReady(f func()) {
	o.mu.Lock()
	if o.IsReady() {
		o.mu.Unlock()
		f()
		return
	}
	o.waiters = &waiter{f: f, next: o.waiters}
	o.mu.Unlock()
}

// IsReady reports whether the object is ready.
func (o *Object) IsReady() bool { return o.state.Load()&readyBit != 0 }

// Result returns the value and error of a ready object, fetching it from
// the process that holds it, or reading it back from disk if the store
// spilled it.
func (o *Object) Result() (exec.Value, *exec.Error) {
	o.mu.Lock()
	val, err := o.val, o.err
	far := o.far.Load()
	var big *Handle
	remote := ""
	if far != nil {
		big, remote = far.big, far.remote
	}
	o.mu.Unlock()
	if remote != "" && err == nil {
		return o.fetchRemote(far)
	}
	return held(val, err, big)
}

// held returns a value held in this process, as Result reads it: from
// memory, or from the store when it keeps the value (it may have been
// spilled).
func held(val exec.Value, err *exec.Error, big *Handle) (exec.Value, *exec.Error) {
	if err != nil || big == nil {
		return val, err
	}
	return big.Load()
}

// fetchRemote fetches a value held by another process (or has it
// rebuilt) through the object's Fetcher. Concurrent readers wait for the
// first one's fetch; if it failed, the next tries again.
func (o *Object) fetchRemote(far *farSide) (exec.Value, *exec.Error) {
	far.fetching.Lock()
	defer far.fetching.Unlock()
	o.mu.Lock()
	addr, f, val, err, big := far.remote, far.fetcher, o.val, o.err, far.big
	o.mu.Unlock()
	if addr == "" { // fetched while this reader waited
		return held(val, err, big)
	}
	v, ferr := f.FetchObject(o, addr)
	if ferr != nil {
		return exec.None, ferr
	}
	o.mu.Lock()
	o.val, far.remote = v, ""
	r := far.release
	shared := o.state.Load()&sharedBit != 0
	if !shared {
		far.release = nil
	}
	o.mu.Unlock()
	if r != nil && !shared {
		r.r.Released(o, addr)
	}
	return v, nil
}
