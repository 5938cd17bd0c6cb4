package gcs

import (
	"bufio"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rayflow/rayflow/internal/codec"
	"github.com/rayflow/rayflow/internal/metrics"
)

// fsm is the raft.FSM of one shard. It is thin, after rqlite's: Apply
// decodes a batch and hands each command to the stateless applier
// (applyCommand) over the shard's tables; Snapshot and Restore serialise the
// tables.
//
// Threading contract. raft calls Apply, Snapshot and Restore from its one
// FSM goroutine, never concurrently with each other. Persist and Release of
// a snapshot run on another goroutine, concurrently with later Applies, so
// Snapshot copies the tables (shallowly: rows are immutable) and Persist
// reads only the copy. Readers (Store.Get*, List*) run on any goroutine and
// take mu for reading; Apply and Restore take it for writing. Events are
// published after mu is released, and publishing never blocks (see
// subscribe.go), so a slow subscriber cannot stall the log.
type fsm struct {
	shard int
	mu    sync.RWMutex
	t     *tables
	hub   *hub
}

func newFSM(shard int, h *hub) *fsm {
	return &fsm{shard: shard, t: newTables(), hub: h}
}

// applyResult is what Apply returns for one log entry: err if the entry as
// a whole was rejected, else the error of each command in order (errs is
// nil when every command succeeded).
type applyResult struct {
	err  error
	errs []error
}

// Apply applies one log entry (a batch of commands).
//
// A task batch is kept as a slice of l.Data, not copied (decodeBatch):
// the entry's bytes are the batch's one copy, shared with the log store
// while it keeps the entry. That holds for every entry raft hands here,
// with either log store (hashicorp/raft v1.7.3, raft-boltdb/v2 v2.3.1;
// TestLogDataOwnedByFSM checks both):
//   - on the leader, l is the entry given to raft.Apply: a buffer
//     encodeBatch made for it (or a forwarded request's, ServeForwarded),
//     never written again;
//   - elsewhere raft reads the entry from its log store. The in-memory
//     store (no DataDir) returns the Data slice it was given, never
//     modified; it came from the leader's Apply or from the network
//     transport's decoder, which allocates it. raft-boltdb decodes the
//     bolt value through an io.Reader into a new slice, so Data never
//     points into bolt's memory map (valid only inside its transaction).
//
// A change of log store (or of those versions) must keep l.Data owned by
// the FSM once Apply has it, or decodeBatch must copy task batches again.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	cmds, err := decodeBatch(l.Data)
	if err != nil {
		// Every replica rejects the same bytes the same way, so a corrupt
		// entry is reported to its writers and otherwise skipped.
		return &applyResult{err: err}
	}
	var changes []change
	emit := func(change) {}
	var batchEmit func(change) // nil: a task batch's rows, and a job's rows deleted, make no events
	if f.hub.active() {
		emit = func(c change) { changes = append(changes, c) }
		if f.hub.follows(TableTasks) {
			batchEmit = emit
		}
	}
	res := &applyResult{}
	start := time.Now()
	f.mu.Lock()
	for i := range cmds {
		e := emit
		if cmds[i].op == opPutTaskBatch || cmds[i].op == opDeletePrefix && cmds[i].table == TableTasks {
			e = batchEmit
		}
		if err := applyCommand(f.t, &cmds[i], e); err != nil {
			if res.errs == nil {
				res.errs = make([]error, len(cmds))
			}
			res.errs[i] = err
		}
	}
	f.mu.Unlock()
	metrics.GCSApply.Observe(time.Since(start).Seconds())
	f.hub.publish(f.shard, l.Index, changes)
	return res
}

// Snapshot copies the tables for Persist.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &fsmSnapshot{t: f.t.clone()}, nil
}

// Restore replaces the tables with a snapshot. Subscribers get one OpReset
// event instead of a change per row, and should list the tables again.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	t, err := readTables(bufio.NewReader(rc))
	if err != nil {
		return fmt.Errorf("gcs: restore snapshot: %w", err)
	}
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
	f.hub.publishReset(f.shard)
	return nil
}

// get returns the stored row, which the caller must not modify.
func (f *fsm) get(table, key string) ([]byte, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.t.get(table, key)
}

// getTask returns a task's row, written alone or in a batch; the caller
// must not modify it. When batches were applied since the last lookup it
// indexes them first, under the write lock.
func (f *fsm) getTask(id string) ([]byte, bool) {
	f.mu.RLock()
	if b, ok := f.t.get(TableTasks, id); ok || f.t.tasks.indexed() {
		if !ok {
			b, ok = f.t.tasks.get(id)
		}
		f.mu.RUnlock()
		return b, ok
	}
	f.mu.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t.tasks.indexAll()
	return f.t.tasks.get(id)
}

// each calls fn for every row of table (for the tasks table, those in
// batches too), under the lock; fn must not call back into the fsm.
func (f *fsm) each(table string, fn func(key string, row []byte)) {
	if table == TableTasks {
		f.mu.Lock() // the batches are indexed first
		defer f.mu.Unlock()
		f.t.tasks.each(fn)
	} else {
		f.mu.RLock()
		defer f.mu.RUnlock()
	}
	for k, v := range f.t.rows[table] {
		fn(k, v)
	}
}

// taskBatches returns how many task batches this shard holds and how
// many live rows they have.
func (f *fsm) taskBatches() (batches, rows int) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.t.tasks.count()
}

// fsmSnapshot is a point-in-time copy of a shard's tables.
type fsmSnapshot struct {
	t *snapshotTables
}

// Persist writes the snapshot: a version byte, then for each table in
// tableNames order the row count and each key and row, then (version 2)
// the task batches.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriterSize(sink, 64<<10)
	err := writeSnapshot(w, s.t)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("gcs: persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release does nothing; the copy is garbage collected.
func (s *fsmSnapshot) Release() {}

// snapshotVersion is the format of snapshots with task batches;
// snapshotVersion1, without, is written when a shard holds none.
const (
	snapshotVersion1 = 1
	snapshotVersion  = 2
)

// firstSnapshotTables is how many tables the first snapshots held; the
// tables added since (TableStats) may be missing from a snapshot, which
// then reads them as empty.
const firstSnapshotTables = 6

// writeTables writes a snapshot of t.
func writeTables(w io.Writer, t *tables) error { return writeSnapshot(w, t.clone()) }

func writeSnapshot(w io.Writer, t *snapshotTables) error {
	e := codec.NewEncoder(make([]byte, 0, 4096))
	if len(t.batches) == 0 {
		e.Byte(snapshotVersion1)
	} else {
		e.Byte(snapshotVersion)
	}
	for _, name := range tableNames {
		rows := t.rows[name]
		e.Uvarint(uint64(len(rows)))
		for k, v := range rows {
			e.String(k)
			e.Blob(v)
			if e.Len() >= 32<<10 {
				if _, err := w.Write(e.Bytes()); err != nil {
					return err
				}
				e.Reset()
			}
		}
	}
	if len(t.batches) > 0 {
		writeTaskBatches(e, t.batches)
	}
	_, err := w.Write(e.Bytes())
	return err
}

func readTables(r io.Reader) (*tables, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d := codec.NewDecoder(b)
	v := d.Byte()
	if d.Err() == nil && v != snapshotVersion1 && v != snapshotVersion {
		return nil, fmt.Errorf("snapshot version %d, want %d or %d", v, snapshotVersion1, snapshotVersion)
	}
	t := newTables()
	for i, name := range tableNames {
		if i >= firstSnapshotTables && d.Err() == nil && d.Remaining() == 0 {
			break // a snapshot from before this table existed
		}
		n := d.Count(2) // a key and a row, each at least a length
		for i := 0; i < n && d.Err() == nil; i++ {
			k := d.String()
			t.rows[name][k] = d.BlobCopy()
		}
	}
	if v == snapshotVersion && d.Err() == nil {
		if err := readTaskBatches(d, t.tasks); err != nil {
			return nil, err
		}
	}
	if err := finish(d); err != nil {
		return nil, err
	}
	return t, nil
}
