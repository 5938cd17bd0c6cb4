package gcs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/rayflow/rayflow/internal/codec"
)

// Lineage a batch at a time (issue 15: lineage for free).
//
// The lineage stash writes task records a batch at a time, and the GCS
// keeps each batch as one row: the bytes the writer encoded (TaskBatch),
// carried in one command of one raft log entry and stored as they came,
// never decoded into records and encoded again. Applying a batch costs
// the same for one record as for thousands: no map insert per task, and
// nothing per task for the garbage collector to mark (a batch is one
// pointer-free allocation).
//
// A task's row is found inside its batch through an index from task ID
// to row that is built only when something asks for a task by ID
// (GetTask, a delete of named tasks): it takes in the batches applied
// since it was last brought up to date, in the order they were applied,
// so that a task written again (a retried batch, a record a peer also
// wrote) resolves to its newest row and the older copies are marked dead.
// A delete marks a row dead; a batch whose rows are all dead is dropped.
// Snapshots write the live rows of each batch, in order.
//
// The batched rows are part of the tasks table: every read and delete of
// TableTasks sees them besides the rows written one per key (by older
// versions, whose logs and snapshots still read).
//
// Threading: taskBatches is part of a shard's tables and is owned by its
// FSM like them; lookups change it (the index, dead marks), so readers
// that find batches not yet indexed take the FSM's lock for writing.

// taskBatchVersion leads an encoded batch.
const taskBatchVersion = 1

// batchRowHeader is the size of the length before each row of a batch.
const batchRowHeader = 4

// TaskBatch encodes task records into the batch format the GCS stores as
// one row (Store.PutTaskBatch): a version byte, then each record's task
// row behind its length as four little-endian bytes. The zero value is
// not ready; use NewTaskBatch.
type TaskBatch struct {
	e    *codec.Encoder
	n    int
	tail tailCache
	w    ArgWriter // AddArgs's, reused: handed to a callback, it would escape per row
}

// tailCache is the encoding of the fields after the arguments of the last
// row AddArgs wrote: the rows of a batch mostly share them (one function,
// one owner), so they are encoded once and copied. A record's Resources
// map is told apart by identity: it must not change while the batch is
// built.
type tailCache struct {
	resources     reflect.Value // the map, for its identity (UnsafePointer)
	retries       int
	deterministic bool
	ownerNode     string
	state         string
	bytes         []byte // nil: nothing cached
}

// matches reports whether t's tail is the one cached (a record with an
// outcome never is).
func (c *tailCache) matches(t *TaskRecord) bool {
	return c.bytes != nil && len(t.Outcome) == 0 && c.retries == t.Retries &&
		c.deterministic == t.Deterministic && c.ownerNode == t.OwnerNode && c.state == t.State &&
		sameMap(c.resources, t.Resources)
}

// keep caches t's tail, whose encoding is enc.
func (c *tailCache) keep(t *TaskRecord, enc []byte) {
	if len(t.Outcome) > 0 {
		return
	}
	c.resources = reflect.ValueOf(t.Resources)
	c.retries, c.deterministic, c.ownerNode, c.state = t.Retries, t.Deterministic, t.OwnerNode, t.State
	c.bytes = append(c.bytes[:0], enc...)
}

// sameMap reports whether m is the map v holds (both nil counts).
func sameMap(v reflect.Value, m map[string]float64) bool {
	if m == nil || !v.IsValid() {
		return m == nil && (!v.IsValid() || v.IsNil())
	}
	return v.UnsafePointer() == reflect.ValueOf(m).UnsafePointer()
}

// NewTaskBatch returns an empty batch whose buffer starts with room for
// about sizeHint bytes.
func NewTaskBatch(sizeHint int) *TaskBatch {
	return NewTaskBatchIn(nil, sizeHint)
}

// NewTaskBatchIn is NewTaskBatch writing into buf's room (what buf holds
// is overwritten) when it has about sizeHint bytes, into a new buffer if
// not: a writer that knows its last batch is no longer read reuses it.
func NewTaskBatchIn(buf []byte, sizeHint int) *TaskBatch {
	sizeHint = max(sizeHint, 64)
	if cap(buf) < sizeHint {
		buf = make([]byte, 0, sizeHint)
	}
	e := codec.NewEncoder(buf[:0])
	e.Byte(taskBatchVersion)
	return &TaskBatch{e: e}
}

// Add appends a record. Its TaskID must not be empty.
func (b *TaskBatch) Add(t *TaskRecord) {
	start := b.e.Len()
	var hdr [batchRowHeader]byte
	for _, c := range hdr {
		b.e.Byte(c)
	}
	t.marshal(b.e)
	buf := b.e.Bytes()
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(buf)-start-batchRowHeader))
	b.n++
}

// AddArgs appends a record whose nargs arguments args writes through w,
// in order, straight into the batch (t.Args is ignored): the row is the
// one Add writes for t with those arguments, without building them
// first. Arguments args leaves unwritten are written empty; writing more
// than nargs panics.
//
// The row's head and tail are encoded through a copy of the batch's
// encoder on the stack, which saves the collector's write barrier on
// every append while it marks (the flusher writes rows by the thousand).
func (b *TaskBatch) AddArgs(t *TaskRecord, nargs int, args func(w *ArgWriter)) {
	e := *b.e
	start := e.Len()
	for range batchRowHeader {
		e.Byte(0)
	}
	e.Byte(taskRowVersion)
	t.encodeHead(&e)
	e.Uvarint(uint64(nargs))
	*b.e = e
	w := &b.w
	*w = ArgWriter{e: b.e, left: nargs}
	args(w)
	for w.left > 0 {
		w.Missing()
	}
	*w = ArgWriter{}
	e = *b.e
	if b.tail.matches(t) {
		e.Raw(b.tail.bytes)
	} else {
		tail := e.Len()
		t.encodeTail(&e)
		b.tail.keep(t, e.Bytes()[tail:])
	}
	buf := e.Bytes()
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(buf)-start-batchRowHeader))
	*b.e = e
	b.n++
}

// ArgWriter writes the arguments of one record of a TaskBatch (AddArgs),
// each as a TaskArg. It is valid only during the AddArgs call that hands
// it out.
type ArgWriter struct {
	e    *codec.Encoder
	left int
}

func (w *ArgWriter) next() {
	if w.left == 0 {
		panic("gcs: ArgWriter: more arguments than announced")
	}
	w.left--
}

// Object writes an argument that refers to an object, and the address it
// could be fetched from ("" if unknown).
func (w *ArgWriter) Object(id, location string) {
	w.next()
	w.e.String(id)
	w.e.Blob(nil)
	w.e.String(location)
}

// PreviousResult writes an argument of a group's record that is the
// previous call's result (Object(PreviousResult, "")).
func (w *ArgWriter) PreviousResult() {
	w.next()
	w.e.Raw(previousResultArg[:])
}

// Inline writes an argument kept as its encoding, which fill appends to
// the buffer it is given; when fill reports false the argument is written
// as Missing.
func (w *ArgWriter) Inline(fill func(dst []byte) ([]byte, bool)) {
	w.next()
	w.e.String("")
	w.e.BlobFunc(fill)
	w.e.String("")
}

// Missing writes an argument kept neither inline nor by reference (the
// zero TaskArg).
func (w *ArgWriter) Missing() {
	w.next()
	w.e.String("")
	w.e.Blob(nil)
	w.e.String("")
}

// Len is the number of records added.
func (b *TaskBatch) Len() int { return b.n }

// Bytes is the encoded batch; it aliases the batch's buffer.
func (b *TaskBatch) Bytes() []byte { return b.e.Bytes() }

// SizeHint is about the size a record takes in a batch.
func SizeHint(t *TaskRecord) int { return batchRowHeader + t.rowSizeHint() }

// walkBatch calls fn for each row of an encoded batch with the row's
// position, its offset in data, its key and the row itself, until fn
// returns false. It fails on a batch that is not well formed (wrong
// version, a row running past the end, a row without a task ID); fn may
// have been called for the rows before the fault.
func walkBatch(data []byte, fn func(i int, off int, key, row []byte) bool) error {
	if len(data) == 0 || data[0] != taskBatchVersion {
		return errors.New("gcs: task batch: bad version")
	}
	for i, off := 0, 1; off < len(data); i++ {
		row, key, err := batchRowAt(data, off)
		if err != nil {
			return err
		}
		if !fn(i, off, key, row) {
			return nil
		}
		off += batchRowHeader + len(row)
	}
	return nil
}

// batchRowAt returns the row at offset off of a batch and its key.
func batchRowAt(data []byte, off int) (row, key []byte, err error) {
	if len(data)-off < batchRowHeader {
		return nil, nil, errors.New("gcs: task batch: truncated row length")
	}
	n := int(binary.LittleEndian.Uint32(data[off:]))
	off += batchRowHeader
	if n > len(data)-off {
		return nil, nil, errors.New("gcs: task batch: row past the end")
	}
	row = data[off : off+n : off+n]
	key = rowKey(row)
	if len(key) == 0 {
		return nil, nil, errors.New("gcs: task batch: a row without a task ID")
	}
	return row, key, nil
}

// rowKey is the task ID a task row starts with (after its version), as a
// slice of the row; nil for a row that does not start so.
func rowKey(row []byte) []byte {
	if len(row) == 0 || (row[0] != rowVersion && row[0] != taskRowVersion) {
		return nil
	}
	d := codec.NewDecoder(row[1:])
	k := d.Blob()
	if d.Err() != nil {
		return nil
	}
	return k
}

// checkTaskBatch reports whether data is a well-formed batch and how
// many rows it holds.
func checkTaskBatch(data []byte) (int, error) {
	n := 0
	err := walkBatch(data, func(int, int, []byte, []byte) bool { n++; return true })
	return n, err
}

// taskBatch is one batch of the tasks table.
type taskBatch struct {
	data []byte   // the batch as written; nil once dropped
	rows int      // rows in data
	live int      // rows not dead
	dead []uint64 // bit i: row i was deleted or written again later; nil while none
}

func (b *taskBatch) isDead(i int) bool {
	return b.dead != nil && b.dead[i/64]&(1<<(i%64)) != 0
}

// rowRef is where a task's newest row is.
type rowRef struct {
	b   *taskBatch
	off int // of the row's length in b.data
	i   int // its position
}

// taskBatches holds the rows of a shard's tasks table that were written a
// batch at a time.
type taskBatches struct {
	list    []*taskBatch // in the order applied; dropped ones leave it in compact
	dropped int          // batches in list with no live row
	pending []*taskBatch // not yet indexed, in the order applied
	index   map[string]rowRef
}

func newTaskBatches() *taskBatches { return &taskBatches{} }

// put adds a batch (data is kept; the caller gives it up). With emit it
// reports a put of each row.
func (tb *taskBatches) put(data []byte, emit func(change)) error {
	n, err := checkTaskBatch(data)
	if err != nil || n == 0 {
		return err
	}
	b := &taskBatch{data: data, rows: n, live: n}
	tb.list = append(tb.list, b)
	tb.pending = append(tb.pending, b)
	if emit != nil {
		walkBatch(data, func(_, _ int, key, row []byte) bool {
			emit(change{table: TableTasks, key: string(key), op: OpPut, value: row})
			return true
		})
	}
	return nil
}

// indexAll brings the index up to date: the pending batches' live rows
// enter it in the order applied, and a row a later batch supersedes is
// marked dead.
func (tb *taskBatches) indexAll() {
	if len(tb.pending) == 0 {
		return
	}
	if tb.index == nil {
		tb.index = make(map[string]rowRef)
	}
	for _, b := range tb.pending {
		if b.live == 0 {
			continue
		}
		data := b.data
		walkBatch(data, func(i, off int, key, _ []byte) bool {
			if b.isDead(i) {
				return true
			}
			if old, ok := tb.index[string(key)]; ok {
				tb.kill(old.b, old.i)
			}
			tb.index[string(key)] = rowRef{b: b, off: off, i: i}
			return true
		})
	}
	clear(tb.pending)
	tb.pending = tb.pending[:0]
	tb.compact()
}

// indexed reports whether every batch is in the index.
func (tb *taskBatches) indexed() bool { return len(tb.pending) == 0 }

// get returns a task's newest live row; the index must be up to date.
func (tb *taskBatches) get(id string) ([]byte, bool) {
	ref, ok := tb.index[id]
	if !ok {
		return nil, false
	}
	row, _, err := batchRowAt(ref.b.data, ref.off)
	return row, err == nil
}

// kill marks row i of b dead, dropping b when it was the last live one.
func (tb *taskBatches) kill(b *taskBatch, i int) {
	if b.isDead(i) {
		return
	}
	if b.dead == nil {
		b.dead = make([]uint64, (b.rows+63)/64)
	}
	b.dead[i/64] |= 1 << (i % 64)
	b.live--
	if b.live > 0 {
		return
	}
	b.data, b.dead = nil, nil
	tb.dropped++
}

// compact removes the dropped batches from list and pending once they
// are at least half of list. Callers call it after their walks.
func (tb *taskBatches) compact() {
	if tb.dropped < 16 || tb.dropped*2 <= len(tb.list) {
		return
	}
	tb.list = keepLive(tb.list)
	tb.pending = keepLive(tb.pending)
	tb.dropped = 0
}

// keepLive filters bs in place to the batches with live rows.
func keepLive(bs []*taskBatch) []*taskBatch {
	keep := bs[:0]
	for _, b := range bs {
		if b.live > 0 {
			keep = append(keep, b)
		}
	}
	clear(bs[len(keep):])
	return keep
}

// delete removes a task's row, reporting the delete through emit.
func (tb *taskBatches) delete(id string, emit func(change)) {
	if len(tb.list) == tb.dropped {
		return
	}
	tb.indexAll()
	ref, ok := tb.index[id]
	if !ok {
		return
	}
	delete(tb.index, id)
	tb.kill(ref.b, ref.i)
	tb.compact()
	emit(change{table: TableTasks, key: id, op: OpDelete})
}

// deletePrefix removes every row whose key starts with prefix, reporting
// each delete through emit; with a nil emit (no one follows the tasks
// table) it reports nothing and makes no string per row. A batch whose
// rows all go is dropped whole.
func (tb *taskBatches) deletePrefix(prefix string, emit func(change)) {
	for _, b := range tb.list {
		if b.live == 0 {
			continue
		}
		walkBatch(b.data, func(i, _ int, key, _ []byte) bool {
			if b.isDead(i) || len(key) < len(prefix) || string(key[:len(prefix)]) != prefix {
				return true
			}
			if ref, ok := tb.index[string(key)]; ok && ref.b == b && ref.i == i {
				delete(tb.index, string(key))
			}
			tb.kill(b, i)
			if emit != nil {
				emit(change{table: TableTasks, key: string(key), op: OpDelete})
			}
			return b.data != nil // the batch was dropped: nothing left in it
		})
	}
	tb.compact()
}

// each calls fn for every task's newest live row.
func (tb *taskBatches) each(fn func(key string, row []byte)) {
	tb.indexAll()
	for k, ref := range tb.index {
		if row, _, err := batchRowAt(ref.b.data, ref.off); err == nil {
			fn(k, row)
		}
	}
}

// snapshot returns the batches that hold live rows, for a snapshot: each as
// its bytes, those with dead rows written again without them. The
// result shares no mutable state with tb.
func (tb *taskBatches) snapshot() [][]byte {
	var out [][]byte
	for _, b := range tb.list {
		if b.live == 0 {
			continue
		}
		if b.dead == nil {
			out = append(out, b.data) // immutable
			continue
		}
		out = append(out, liveRows(b))
	}
	return out
}

// liveRows encodes b's live rows as a batch of their own.
func liveRows(b *taskBatch) []byte {
	out := make([]byte, 1, len(b.data))
	out[0] = taskBatchVersion
	walkBatch(b.data, func(i, off int, _, row []byte) bool {
		if !b.isDead(i) {
			out = append(out, b.data[off:off+batchRowHeader+len(row)]...)
		}
		return true
	})
	return out
}

// count is the number of batches held and of their live rows.
func (tb *taskBatches) count() (batches, rows int) {
	for _, b := range tb.list {
		if b.live > 0 {
			batches++
			rows += b.live
		}
	}
	return batches, rows
}

// writeTaskBatches appends a snapshot's batches to e.
func writeTaskBatches(e *codec.Encoder, batches [][]byte) {
	e.Uvarint(uint64(len(batches)))
	for _, b := range batches {
		e.Blob(b)
	}
}

// readTaskBatches reads what writeTaskBatches wrote into tb.
func readTaskBatches(d *codec.Decoder, tb *taskBatches) error {
	n := d.Count(2)
	for i := 0; i < n && d.Err() == nil; i++ {
		if err := tb.put(d.BlobCopy(), nil); err != nil {
			return fmt.Errorf("batch %d: %w", i, err)
		}
	}
	return d.Err()
}
