package nodeagent

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/nodeagent/objstore"
)

// object is one entry of the object store: the result of a task, a
// method call or a put. It is written once; readers wait on done.
type object struct {
	id   string
	name string // what produces it, for messages
	done chan struct{}

	mu      sync.Mutex
	ready   bool
	val     exec.Value
	err     *exec.Error
	node    string           // where the value lives
	waiters []func()         // run once when the object becomes ready
	task    *task            // the task producing it, while it runs or waits
	big     *objstore.Handle // a large value, kept by the node's store (val is then None)
	remote  string           // address of the process holding the value, when elsewhere
	net     *network         // how to fetch it from there
	// size is the encoded size of a large value held elsewhere, as its
	// holder reported it (0 when unknown); a value held here has it in
	// its store handle.
	size int64
	// actorSeq is, for a method call, its place in the order its actor
	// ran calls, plus one (0 until it ran).
	actorSeq atomic.Uint64
	// owner is, for a future another process passed here inside a value,
	// the address of the process that owns it: it keeps the lineage, so
	// it can rebuild the value if the process holding it died. Set before
	// the object is shared; "" when this process owns it.
	owner string

	// fetching is held by the one reader that fetches (or rebuilds) a
	// remote value, so concurrent readers share one fetch. It is never
	// taken while mu is held, and mu is never held across the fetch: the
	// fetch and a rebuild wait on the network and on other goroutines
	// (the spiller) that lock mu.
	fetching sync.Mutex
}

// setRemote records that the object's value lives in another process,
// and its encoded size when known (0 otherwise).
func (o *object) setRemote(addr string, size int64, nw *network) {
	o.mu.Lock()
	o.remote, o.size, o.net = addr, size, nw
	o.mu.Unlock()
}

// whereAndSize says, for a ready object, where its value lives ("" for
// this process) and its encoded size, or 0 when the size is not known or
// the value is small (it travels inline). The global scheduler weighs
// arguments by it.
func (o *object) whereAndSize() (string, int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ready || o.err != nil {
		return "", 0
	}
	size := o.size
	if o.big != nil {
		size = o.big.Size()
	}
	return o.remote, size
}

// remoteLocation is where the value lives, or "" when it is here.
func (o *object) remoteLocation() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.remote
}

func newObject(id, name string) *object {
	return &object{id: id, name: name, done: make(chan struct{})}
}

// complete stores the value or error and wakes every waiter. Only the
// first completion counts.
func (o *object) Complete(val exec.Value, err *exec.Error, node string) bool {
	o.mu.Lock()
	if o.ready {
		o.mu.Unlock()
		return false
	}
	o.ready, o.val, o.err, o.node, o.task = true, val, err, node, nil
	waiters := o.waiters
	o.waiters = nil
	o.mu.Unlock()
	close(o.done)
	for _, w := range waiters {
		w()
	}
	return true
}

// onReady runs f when the object is ready (at once if it is).
func (o *object) OnReady(f func()) {
	o.mu.Lock()
	if o.ready {
		o.mu.Unlock()
		f()
		return
	}
	o.waiters = append(o.waiters, f)
	o.mu.Unlock()
}

func (o *object) isReady() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// result returns the value and error of a ready object, fetching it from
// the process that holds it, or reading it back from disk if the store
// spilled it.
func (o *object) Result() (exec.Value, *exec.Error) {
	o.mu.Lock()
	val, err, big, remote := o.val, o.err, o.big, o.remote
	o.mu.Unlock()
	if remote != "" && err == nil {
		return o.fetchRemote()
	}
	return held(val, err, big)
}

// held returns a value held in this process, as result read it: from
// memory, or from the store when it keeps the value (it may have been
// spilled).
func held(val exec.Value, err *exec.Error, big *objstore.Handle) (exec.Value, *exec.Error) {
	if err != nil || big == nil {
		return val, err
	}
	return big.Load()
}

// fetchRemote fetches a value held by another process, rebuilding it from
// its lineage if that process lost it. Concurrent readers wait for the
// first one's fetch; if it failed, the next tries again.
func (o *object) fetchRemote() (exec.Value, *exec.Error) {
	o.fetching.Lock()
	defer o.fetching.Unlock()
	o.mu.Lock()
	addr, nw, val, err, big := o.remote, o.net, o.val, o.err, o.big
	o.mu.Unlock()
	if addr == "" { // fetched while this reader waited
		return held(val, err, big)
	}
	v, ferr := nw.fetch(o.id, addr)
	if ferr != nil {
		v, ferr = nw.ow.rebuild(o, addr, ferr)
	}
	if ferr != nil {
		return exec.None, ferr
	}
	o.mu.Lock()
	o.val, o.remote = v, ""
	o.mu.Unlock()
	return v, nil
}

// objectOf returns the store entry behind a future.
func objectOf(f *exec.Future) *object {
	o, _ := f.Handle.(*object)
	return o
}

// failOnPanic, deferred by the goroutines that complete objects, turns a
// bug in the node agent into an "internal" error on the object instead
// of a crash with a goroutine dump: the job fails with a message the user
// can report, and the process keeps serving.
func failOnPanic(o *object) {
	if r := recover(); r != nil {
		internalError(o, r)
	}
}

// internalError fails an object with a bug report's worth of message.
func internalError(o *object, r any) {
	o.Complete(exec.None, &exec.Error{Kind: exec.KindInternal,
		Msg: fmt.Sprintf("internal error in the node agent while running %s: %v; please report this as a bug with the program that caused it", o.name, r)}, "")
}

// Name says what makes the object, for messages.
func (o *object) Name() string { return o.name }

// SetOrder records, for a method call, its place in the order its actor
// ran calls, plus one.
func (o *object) SetOrder(seq uint64) { o.actorSeq.Store(seq) }

// InlineLimit is the size up to which a result travels inline with its
// completion and is not counted by the object store.
const InlineLimit = objstore.InlineLimit
