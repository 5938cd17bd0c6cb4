package nodeagent

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/objstore"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// Lineage on the task path (--lineage):
//
//   - stash (default): each task's specification enters this process's
//     lineage stash, which forwards the uncommitted part with the tasks
//     it sends to other nodes and writes it to the GCS in the background;
//     nothing on the task path waits for the GCS, except when lineage has
//     travelled ForwardBound hops without being committed;
//   - sync: every task is written to the GCS before it is dispatched
//     (Ray's original scheme), to be measured against the stash;
//   - off: no lineage is kept; recovery that would need it fails with an
//     error saying so.

// lineage is a process's lineage keeping.
type lineage struct {
	mode  stash.Mode
	stash *stash.Stash
	store stash.Store
	// closeStore closes the embedded GCS, when this process owns one.
	closeStore func()
	// refs encodes the futures and actor handles inside arguments, in a
	// cluster (nil: such arguments are not kept inline).
	refs exec.RefCodec
	// bundlesIn and recordsIn count the bundles taken in (receive) and
	// the records they held.
	bundlesIn, recordsIn atomic.Int64
}

// newLineage starts lineage keeping in the given mode over store.
func newLineage(mode stash.Mode, node string, store stash.Store, bound int, closeStore func()) *lineage {
	l := &lineage{mode: mode, store: store, closeStore: closeStore}
	if mode == stash.ModeOff {
		return l
	}
	l.stash = stash.New(store, stash.Config{Node: node, ForwardBound: bound})
	return l
}

// record keeps a task's specification. In sync mode it is written to the
// GCS before this returns. In stash mode the stash keeps the call and
// builds its record only when it is needed (callSpec); fresh says the call
// was just made by this process (its ID cannot be committed yet).
func (l *lineage) record(call *exec.TaskCall, node string, fresh bool) error {
	if l == nil || l.mode == stash.ModeOff {
		return nil
	}
	if l.mode == stash.ModeSync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return stash.WriteSync(ctx, l.store, taskRecord(call, node, l.refs))
	}
	return l.stash.AddSpec(call.ID, &callSpec{call: call, node: node, refs: l.refs}, fresh)
}

// callSpec is a call's lineage as the stash keeps it (stash.Spec): the
// call itself, which does not change once submitted, turned into a
// record by taskRecord only when the flusher, a forward or a lookup
// needs it. Its stash entry is inside it (stash.Slot): one allocation
// per submitted call.
type callSpec struct {
	stash.Slot
	call *exec.TaskCall
	node string
	refs exec.RefCodec
}

func (c *callSpec) Record() gcs.TaskRecord { return taskRecord(c.call, c.node, c.refs) }

func (c *callSpec) ParentID() string { return parentID(c.call.ID) }

func (c *callSpec) AppendDeps(dst []string) []string { return appendFutureIDs(dst, c.call.Args) }

// appendFutureIDs appends the object IDs of the futures among args to dst.
func appendFutureIDs(dst []string, args []exec.Value) []string {
	for _, a := range args {
		if a.Kind() == exec.FutureKind {
			dst = append(dst, a.AsFuture().ID())
		}
	}
	return dst
}

// parentID is the ID of the task that submitted the task id ("" for a
// top-level one).
func parentID(id string) string {
	if i := strings.LastIndexByte(id, '.'); i > 0 {
		return id[:i]
	}
	return ""
}

// outcome logs a nondeterministic step of a task.
func (l *lineage) outcome(o stash.Outcome) {
	if l == nil || l.mode == stash.ModeOff {
		return
	}
	if l.mode == stash.ModeSync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stash.WriteSync(ctx, l.store, stash.OutcomeRecord(o))
		return
	}
	l.stash.AddOutcome(o)
}

// forward is the uncommitted lineage a task sent to receiver needs.
func (l *lineage) forward(taskID, receiver string) []byte {
	if l == nil || l.stash == nil {
		return nil
	}
	b, _ := l.stash.Forward(taskID, receiver) // on a bound-flush timeout the full bundle still travels
	if b.Empty() {
		return nil
	}
	return b.Encode()
}

// forwardAll is the uncommitted lineage the tasks of one frame sent to
// receiver need, in one bundle (stash.ForwardAll): what they share is in
// it once, and it is built, encoded, decoded and taken in once per frame,
// not once per task.
func (l *lineage) forwardAll(taskIDs []string, receiver string) []byte {
	if l == nil || l.stash == nil || len(taskIDs) == 0 {
		return nil
	}
	b, _ := l.stash.ForwardAll(taskIDs, receiver) // as forward
	if b.Empty() {
		return nil
	}
	size := 16 // the records of a frame are mostly alike: sized from the first
	if len(b.Records) > 0 {
		size += (4 + gcs.SizeHint(&b.Records[0].Record)) * len(b.Records) * 9 / 8
	}
	for _, k := range b.Committed {
		size += 2 + len(k)
	}
	return b.AppendEncode(make([]byte, 0, size))
}

// forwardGroup is the uncommitted lineage the calls of a group sent to
// receiver need, in one bundle: it travels with the group's first call,
// which the receiver takes in before it runs any of them. The group's
// lineage is one record, keyed by its first call (group_lineage.go), and
// what the group takes from outside is below it.
func (l *lineage) forwardGroup(taskIDs []string, receiver string) []byte {
	return l.forward(taskIDs[0], receiver)
}

// receive merges lineage that came with a task.
func (l *lineage) receive(data []byte, from string) {
	if l == nil || l.stash == nil || len(data) == 0 {
		return
	}
	if b, err := stash.DecodeBundle(data); err == nil {
		l.bundlesIn.Add(1)
		l.recordsIn.Add(int64(len(b.Records)))
		l.stash.Receive(b, from)
	}
}

// stats reports the stash's uncommitted lineage.
func (l *lineage) stats() stash.Stats {
	if l == nil || l.stash == nil {
		return stash.Stats{}
	}
	return l.stash.Stats()
}

func (l *lineage) close() {
	if l == nil {
		return
	}
	if l.stash != nil {
		l.stash.Close()
	}
	if l.closeStore != nil {
		l.closeStore()
	}
}

// taskRecord is the lineage of one task call: its deterministic ID, the
// callee, where its arguments come from, its resources, retries and
// determinism (from the compiler's annotation).
func taskRecord(call *exec.TaskCall, node string, refs exec.RefCodec) gcs.TaskRecord {
	rec := recordHead(call, node)
	// A plain task's record does not keep its futures' values where they
	// live: the owner re-runs a task from the call it keeps, and a value
	// released since is made again from its own lineage. An actor's
	// restart replays method calls from their records: their futures stay.
	rec.Args = taskArgs(call.Args, refs, pinsArgs(call))
	return rec
}

// recordHead is taskRecord of the call without its arguments.
func recordHead(call *exec.TaskCall, node string) gcs.TaskRecord {
	jobID, _, _ := strings.Cut(call.ID, ".")
	rec := gcs.TaskRecord{TaskID: call.ID, JobID: jobID, OwnerNode: node, State: "submitted"}
	rec.ParentID = parentID(call.ID)
	rec.Function = call.Name()
	rec.Resources = call.Resources()
	if info := call.Info(); info != nil {
		rec.Retries = info.Retries
		rec.Deterministic = info.Deterministic
	}
	if call.Site != nil {
		rec.Deterministic = call.Site.Deterministic
	}
	return rec
}

// argLocation is where a record says the value of a future argument
// lives ("" when not known); with pin, the object is marked shared, so its
// value stays there until the job ends.
func argLocation(f *exec.Future, pin bool) string {
	o := objstore.ObjectOf(f)
	switch {
	case o == nil:
		return ""
	case pin:
		return o.SharedLocation()
	default:
		return o.RemoteLocation()
	}
}

// pinsArgs reports whether call's record keeps its futures' values where
// they live (taskRecord says why only calls other than plain tasks do).
func pinsArgs(call *exec.TaskCall) bool { return call.Func != nil && call.Func.Kind != "task" }

// taskArgs is where a call's arguments come from: a future's object (and
// where it is), or a small value's encoding inline (nil for a large one,
// or one that cannot leave the process). The inline encodings share one
// buffer, sized up front: one allocation per record instead of one or
// more per argument. Each is capped, so none can grow into the next. With
// pin, a future's object is marked shared (its value stays where it lives
// until the job ends).
func taskArgs(args []exec.Value, refs exec.RefCodec, pin bool) []gcs.TaskArg {
	if len(args) == 0 {
		return nil
	}
	out := make([]gcs.TaskArg, len(args))
	var sizes [8]int64 // of the first arguments, not computed twice
	need := int64(0)
	for i, a := range args {
		if a.Kind() == exec.FutureKind {
			continue
		}
		n := exec.EncodedSize(a)
		if i < len(sizes) {
			sizes[i] = n
		}
		if n <= InlineLimit {
			need += n + 1 // + the encoding's version byte
		}
	}
	var buf []byte
	if need > 0 {
		buf = make([]byte, 0, need)
	}
	for i, a := range args {
		if a.Kind() == exec.FutureKind {
			out[i] = gcs.TaskArg{ObjectID: a.AsFuture().ID(), Location: argLocation(a.AsFuture(), pin)}
			continue
		}
		var size int64
		if i < len(sizes) {
			size = sizes[i]
		} else {
			size = exec.EncodedSize(a)
		}
		if size > InlineLimit {
			continue
		}
		start := len(buf)
		enc, err := exec.EncodeWith(buf, a, refs)
		if err != nil {
			continue
		}
		buf = enc
		out[i].Inline = buf[start:len(buf):len(buf)]
	}
	return out
}

// lazyStore is a stash.Store over a GCS that is still opening: writes
// wait (off the task path, in the stash's flusher) until it is open.
type lazyStore struct {
	ready chan struct{}
	mu    sync.Mutex
	st    *gcs.Store
	err   error
}

func openLazyStore(cfg gcs.Config) *lazyStore {
	l := &lazyStore{ready: make(chan struct{})}
	go func() {
		st, err := gcs.Open(cfg)
		l.mu.Lock()
		l.st, l.err = st, err
		l.mu.Unlock()
		close(l.ready)
	}()
	return l
}

func (l *lazyStore) get() (*gcs.Store, error) {
	select {
	case <-l.ready:
	case <-time.After(10 * time.Second):
		return nil, gcs.ErrTimeout
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st, l.err
}

func (l *lazyStore) PutTasks(recs []gcs.TaskRecord) stash.Waiter {
	st, err := l.get()
	if err != nil {
		return stash.WaiterFunc(func(context.Context) error { return err })
	}
	return stash.GCS(st).PutTasks(recs)
}

func (l *lazyStore) GetTask(id string) (gcs.TaskRecord, error) {
	st, err := l.get()
	if err != nil {
		return gcs.TaskRecord{}, err
	}
	return st.GetTask(id)
}

func (l *lazyStore) close() {
	if st, err := l.get(); err == nil {
		st.Close()
	}
}

// headStore is a stash.Store that reaches the GCS through the heads.
type headStore struct{ nw *network }

func (h headStore) PutTasks(recs []gcs.TaskRecord) stash.Waiter {
	return h.write(wire.GCSPutTasks, wire.EncodeRecords(recs))
}

// write sends one GCS write (op, body) through the heads off the caller's
// goroutine, bounded at 30 s, and returns a waiter for its answer that
// any number of calls may wait on.
func (h headStore) write(op byte, body []byte) stash.Waiter {
	done := make(chan struct{})
	var result error
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, result = h.nw.hc.GCS(ctx, op, body)
		close(done)
	}()
	return stash.WaiterFunc(func(ctx context.Context) error {
		select {
		case <-done:
			return result
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (h headStore) GetTask(id string) (gcs.TaskRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := h.nw.hc.GCS(ctx, wire.GCSGetTask, wire.EncodeStrings(id))
	if err != nil {
		if transport.Code(err) == transport.CodeNotFound {
			return gcs.TaskRecord{}, gcs.ErrNotFound
		}
		return gcs.TaskRecord{}, err
	}
	recs, err := wire.DecodeRecords(reply)
	if err != nil || len(recs) != 1 {
		return gcs.TaskRecord{}, wire.ErrMalformed
	}
	return recs[0], nil
}

// delayedStore slows every write by a fixed delay (--gcs-delay), to
// measure the lineage modes against a slow GCS.
type delayedStore struct {
	stash.Store
	delay time.Duration
}

func (d delayedStore) PutTasks(recs []gcs.TaskRecord) stash.Waiter {
	w := d.Store.PutTasks(recs)
	ready := time.Now().Add(d.delay)
	return stash.WaiterFunc(func(ctx context.Context) error {
		select {
		case <-time.After(time.Until(ready)):
		case <-ctx.Done():
			return ctx.Err()
		}
		return w.Wait(ctx)
	})
}
