package gcs

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// A task batch's bytes are copied once on their way into the tables: into
// the raft log entry (encodeBatch). The FSM keeps the batch as a slice of
// the entry, not a copy of its own.

// within reports whether b's bytes lie inside buf's memory.
func within(b, buf []byte) bool {
	if len(b) == 0 || len(buf) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(buf))
}

// sampleBatch encodes n sample records, from first on.
func sampleBatch(first, n int) []byte {
	b := NewTaskBatch(0)
	for i := first; i < first+n; i++ {
		rec := sampleTask(i)
		b.Add(&rec)
	}
	return b.Bytes()
}

// The FSM stores a task batch as a slice of the log entry it applied, and
// copies a plain row (which must not keep a whole entry alive); a snapshot
// of it restores the same records.
func TestApplyKeepsTaskBatchInLogEntry(t *testing.T) {
	batch := sampleBatch(0, 20)
	entry := encodeBatch([]command{
		{op: opPut, table: TableJobs, key: "j1", value: []byte("job")},
		{op: opPutTaskBatch, table: TableTasks, value: batch},
	})
	f := newFSM(0, newHub())
	res, _ := f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: entry}).(*applyResult)
	if res == nil || res.err != nil || res.errs != nil {
		t.Fatalf("Apply: %+v", res)
	}
	if len(f.t.tasks.list) != 1 {
		t.Fatalf("%d batches stored, want 1", len(f.t.tasks.list))
	}
	stored := f.t.tasks.list[0].data
	if !bytes.Equal(stored, batch) {
		t.Fatal("the stored batch is not the bytes written")
	}
	if !within(stored, entry) {
		t.Fatal("the stored batch is a copy, not the log entry's bytes")
	}
	if cap(stored) != len(stored) {
		t.Fatalf("the stored batch has room past its end (cap %d, len %d): an append would write into the entry", cap(stored), len(stored))
	}
	job, _ := f.get(TableJobs, "j1")
	if string(job) != "job" || within(job, entry) {
		t.Fatalf("a plain row %q is not a copy of its own", job)
	}

	var buf bytes.Buffer
	if err := writeTables(&buf, f.t); err != nil {
		t.Fatal(err)
	}
	restored := &fsm{hub: newHub()}
	if err := restored.Restore(nopCloser{&buf}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		row, ok := restored.getTask(fmt.Sprintf("t%04d", i))
		if !ok {
			t.Fatalf("t%04d lost in the snapshot", i)
		}
		var got TaskRecord
		if err := decodeRow(row, &got); err != nil || !reflect.DeepEqual(got, sampleTask(i)) {
			t.Fatalf("t%04d after restore: %+v", i, got)
		}
	}
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// PutTaskBatch copies the caller's batch once: the caller may overwrite
// its buffer once the write succeeded (stash.BatchReleaser), and a batch
// costs about its size in allocations, not twice.
func TestPutTaskBatchCopiesOnce(t *testing.T) {
	s := openTest(t, nil)
	const batches, rows = 40, 1000
	written := sampleBatch(0, rows)
	buf := make([]byte, 0, len(written))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	for k := 0; k < batches; k++ {
		buf = append(buf[:0], written...) // the caller's buffer, reused
		must(t, s.PutTaskBatch(buf))
	}
	runtime.ReadMemStats(&ms)
	perByte := float64(ms.TotalAlloc-before) / float64(batches*len(written))
	t.Logf("%d batches of %d bytes: %.2f bytes allocated per byte written", batches, len(written), perByte)
	clear(buf)
	for _, i := range []int{0, rows / 2, rows - 1} {
		got, err := s.GetTask(fmt.Sprintf("t%04d", i))
		if err != nil || !reflect.DeepEqual(got, sampleTask(i)) {
			t.Fatalf("GetTask(%d) after the caller's buffer was overwritten: %+v, %v", i, got, err)
		}
	}
	// Two copies (the entry's and the FSM's) allocate 2 bytes per byte
	// written; the rest of a write (future, command, raft's log) is small
	// beside a batch of this size.
	if perByte >= 1.5 {
		t.Fatalf("%.2f bytes allocated per byte of batch written, want about 1 (one copy)", perByte)
	}
}

// The log stores hand the FSM entries it may keep: the in-memory store
// returns the slice it was given, and raft-boltdb a slice of its own,
// never bolt's memory map (checked by reading it after the store closed,
// which unmaps the file).
func TestLogDataOwnedByFSM(t *testing.T) {
	data := encodeBatch([]command{{op: opPutTaskBatch, table: TableTasks, value: sampleBatch(0, 50)}})

	mem := raft.NewInmemStore()
	if err := mem.StoreLog(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data}); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := mem.GetLog(1, &l); err != nil {
		t.Fatal(err)
	}
	if unsafe.SliceData(l.Data) != unsafe.SliceData(data) {
		t.Fatal("the in-memory log store returns a copy of the entry")
	}

	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(t.TempDir(), "raft.db"), BoltOptions: boltOptions()})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		if err := bolt.StoreLog(&raft.Log{Index: i, Type: raft.LogCommand, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	var got [3]raft.Log
	for i := range got {
		if err := bolt.GetLog(uint64(i+1), &got[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bolt.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, data) {
			t.Fatalf("entry %d read from bolt changed after the store closed", i+1)
		}
		if _, err := decodeBatch(got[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	if unsafe.SliceData(got[0].Data) == unsafe.SliceData(got[1].Data) {
		t.Fatal("two entries read from bolt share their bytes")
	}
}
