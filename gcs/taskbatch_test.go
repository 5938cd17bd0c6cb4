package gcs

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// batchesHeld counts the task batches every shard holds, their live rows,
// and the task rows held one per key.
func batchesHeld(s *Store) (batches, rows, single int) {
	for _, sh := range s.shards {
		b, r := sh.fsm.taskBatches()
		batches += b
		rows += r
		sh.fsm.mu.RLock()
		single += len(sh.fsm.t.rows[TableTasks])
		sh.fsm.mu.RUnlock()
	}
	return batches, rows, single
}

// A batch of records is one row of the GCS, on one shard, not a row per
// task; each record is still found by its task ID.
func TestTaskBatchIsOneRow(t *testing.T) {
	s := openTest(t, func(c *Config) { c.Shards = 4 })
	var recs []TaskRecord
	for i := 0; i < 1000; i++ {
		recs = append(recs, sampleTask(i))
	}
	must(t, s.PutTasks(recs))
	if b, r, single := batchesHeld(s); b != 1 || r != 1000 || single != 0 {
		t.Fatalf("the GCS holds %d batches of %d rows and %d single rows, want 1 batch of 1000", b, r, single)
	}
	for _, i := range []int{0, 1, 500, 999} {
		got, err := s.GetTask(fmt.Sprintf("t%04d", i))
		if err != nil || !reflect.DeepEqual(got, sampleTask(i)) {
			t.Fatalf("GetTask(%d) = %+v, %v", i, got, err)
		}
	}
	if _, err := s.GetTask("t1000"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetTask of a task never written: %v, want ErrNotFound", err)
	}
}

// PutTaskBatch stores the bytes it is given: a batch encoded elsewhere (by
// a node's stash) reads back record by record.
func TestPutTaskBatchStoresTheEncodedBatch(t *testing.T) {
	s := openTest(t, nil)
	b := NewTaskBatch(0)
	for i := 0; i < 10; i++ {
		rec := sampleTask(i)
		b.Add(&rec)
	}
	if b.Len() != 10 {
		t.Fatalf("Len = %d", b.Len())
	}
	must(t, s.PutTaskBatch(b.Bytes()))
	for i := 0; i < 10; i++ {
		if got, err := s.GetTask(fmt.Sprintf("t%04d", i)); err != nil || !reflect.DeepEqual(got, sampleTask(i)) {
			t.Fatalf("GetTask(%d) = %+v, %v", i, got, err)
		}
	}
	var stored []byte
	for _, sh := range s.shards {
		sh.fsm.mu.RLock()
		if len(sh.fsm.t.tasks.list) == 1 {
			stored = sh.fsm.t.tasks.list[0].data
		}
		sh.fsm.mu.RUnlock()
	}
	if !bytes.Equal(stored, b.Bytes()) {
		t.Fatal("the stored batch is not the bytes written")
	}
}

// A malformed batch is refused whole, before it reaches raft.
func TestPutTaskBatchRefusesMalformed(t *testing.T) {
	s := openTest(t, nil)
	good := NewTaskBatch(0)
	rec := sampleTask(1)
	good.Add(&rec)
	noID := NewTaskBatch(0)
	noID.Add(&TaskRecord{})
	for name, data := range map[string][]byte{
		"empty":      nil,
		"version":    append([]byte{9}, good.Bytes()[1:]...),
		"truncated":  good.Bytes()[:len(good.Bytes())-3],
		"short head": append(append([]byte(nil), good.Bytes()...), 1, 2),
		"no task ID": noID.Bytes(),
	} {
		if err := s.PutTaskBatch(data).ErrorTimeout(5 * time.Second); err == nil {
			t.Errorf("%s: PutTaskBatch succeeded", name)
		}
	}
	if b, _, _ := batchesHeld(s); b != 0 {
		t.Fatalf("%d batches held after malformed writes", b)
	}
}

// A task written again in a later batch (of the same shard) reads as its
// newest record; once deleted it is gone, and its older copy does not
// come back, not even through a snapshot.
func TestTaskWrittenAgainThenDeleted(t *testing.T) {
	s := openTest(t, func(c *Config) { c.Shards = 1 })
	first := []TaskRecord{sampleTask(1), sampleTask(2)}
	must(t, s.PutTasks(first))
	newer := sampleTask(1)
	newer.State = "again"
	must(t, s.PutTasks([]TaskRecord{newer, sampleTask(3)}))
	if got, err := s.GetTask("t0001"); err != nil || got.State != "again" {
		t.Fatalf("GetTask after a rewrite = %+v, %v", got, err)
	}
	must(t, s.DeleteTasks([]string{"t0001"}))
	if _, err := s.GetTask("t0001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetTask after delete: %v, want ErrNotFound", err)
	}
	restored := restoreOf(t, s)
	if _, ok := restored.getTask("t0001"); ok {
		t.Fatal("a deleted task came back from the snapshot")
	}
	for _, id := range []string{"t0002", "t0003"} {
		if _, ok := restored.getTask(id); !ok {
			t.Fatalf("%s missing after the snapshot", id)
		}
	}
}

// restoreOf snapshots s's only shard and restores it into a new fsm.
func restoreOf(t *testing.T, s *Store) *fsm {
	t.Helper()
	if len(s.shards) != 1 {
		t.Fatal("restoreOf wants one shard")
	}
	f := s.shards[0].fsm
	f.mu.RLock()
	snap := f.t.clone()
	f.mu.RUnlock()
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, snap); err != nil {
		t.Fatal(err)
	}
	tb, err := readTables(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return &fsm{t: tb, hub: newHub()}
}

// A batch whose rows are all deleted leaves the GCS; one with a row left
// stays.
func TestDeletedBatchIsDropped(t *testing.T) {
	s := openTest(t, nil)
	must(t, s.PutTasks([]TaskRecord{sampleTask(1), sampleTask(2)}))
	must(t, s.PutTasks([]TaskRecord{sampleTask(3), sampleTask(4)}))
	must(t, s.DeleteTasks([]string{"t0001", "t0002", "t0003"}))
	if b, r, _ := batchesHeld(s); b != 1 || r != 1 {
		t.Fatalf("after deletes: %d batches, %d rows; want 1 and 1", b, r)
	}
	if _, err := s.GetTask("t0004"); err != nil {
		t.Fatal(err)
	}
}

// The snapshot format keeps task batches with their dead rows left out,
// and a snapshot without batches is written as before (version 1).
func TestSnapshotWithTaskBatches(t *testing.T) {
	tb := newTables()
	b := NewTaskBatch(0)
	for i := 0; i < 3; i++ {
		rec := sampleTask(i)
		b.Add(&rec)
	}
	if err := tb.tasks.put(b.Bytes(), nil); err != nil {
		t.Fatal(err)
	}
	tb.tasks.delete("t0001", func(change) {})
	var buf bytes.Buffer
	if err := writeTables(&buf, tb); err != nil {
		t.Fatal(err)
	}
	if buf.Bytes()[0] != snapshotVersion {
		t.Fatalf("snapshot version %d, want %d", buf.Bytes()[0], snapshotVersion)
	}
	got, err := readTables(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got.tasks.indexAll()
	for _, id := range []string{"t0000", "t0002"} {
		if _, ok := got.tasks.get(id); !ok {
			t.Fatalf("%s lost in the snapshot", id)
		}
	}
	if _, ok := got.tasks.get("t0001"); ok {
		t.Fatal("a deleted row is in the snapshot")
	}
	buf.Reset()
	if err := writeTables(&buf, newTables()); err != nil || buf.Bytes()[0] != snapshotVersion1 {
		t.Fatalf("an empty snapshot starts with %d (%v), want version %d", buf.Bytes()[0], err, snapshotVersion1)
	}
}

// A subscriber to the tasks table sees a put for each record of a batch.
func TestSubscriberSeesEachRecordOfABatch(t *testing.T) {
	s := openTest(t, nil)
	sub, err := s.Subscribe(TableTasks, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	must(t, s.PutTasks([]TaskRecord{sampleTask(1), sampleTask(2)}))
	for _, want := range []string{"t0001", "t0002"} {
		select {
		case ev := <-sub.C():
			rec, ok := ev.Value.(TaskRecord)
			if ev.Op != OpPut || ev.Key != want || !ok || rec.TaskID != want {
				t.Fatalf("event %+v, want a put of %s", ev, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s", want)
		}
	}
}

// Batches survive a restart of a replica with a data directory, from the
// log and from a snapshot, deletes included.
func TestTaskBatchesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	must(t, s.PutTasks([]TaskRecord{sampleTask(1), sampleTask(2)}))
	must(t, s.DeleteTasks([]string{"t0001"}))
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	must(t, s.PutTasks([]TaskRecord{sampleTask(3)})) // in the log after the snapshot
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir, nil)
	defer s.Close()
	for _, id := range []string{"t0002", "t0003"} {
		if _, err := s.GetTask(id); err != nil {
			t.Fatalf("GetTask(%s) after reopen: %v", id, err)
		}
	}
	if _, err := s.GetTask("t0001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted task after reopen: %v", err)
	}
}

// AddArgs writes the row Add writes for the same record, its arguments
// written one by one: by reference, inline, missing, and left unwritten.
func TestAddArgsWritesTheRowAddWrites(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 300)
	rec := sampleTask(3)
	rec.Args = []TaskArg{{ObjectID: "o1", Location: "10.0.0.1:7"}, {Inline: []byte{1, 2, 3}}, {}, {Inline: big}, {}}
	want := NewTaskBatch(0)
	want.Add(&rec)
	got := NewTaskBatch(0)
	head := rec
	head.Args = nil
	got.AddArgs(&head, len(rec.Args), func(w *ArgWriter) {
		w.Object("o1", "10.0.0.1:7")
		w.Inline(func(dst []byte) ([]byte, bool) { return append(dst, 1, 2, 3), true })
		w.Inline(func(dst []byte) ([]byte, bool) { return append(dst, 9), false })
		w.Inline(func(dst []byte) ([]byte, bool) { return append(dst, big...), true })
		// the last one left unwritten
	})
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("AddArgs wrote\n%x\nAdd wrote\n%x", got.Bytes(), want.Bytes())
	}
}

// AddArgs copies the encoded fields after the arguments from the row
// before when they are the same (a batch's rows mostly share them), and
// encodes them again when any differs: the resources map (by identity or
// content), retries, determinism, owner, state or an outcome. Every row
// is the one Add writes.
func TestAddArgsTailReusedOnlyWhenSame(t *testing.T) {
	cpu := map[string]float64{"cpu": 1}
	gpu := map[string]float64{"gpu": 1}
	base := TaskRecord{TaskID: "j.1", JobID: "j", Function: "f", Resources: cpu, OwnerNode: "n1", State: "submitted", Deterministic: true}
	var recs []TaskRecord
	add := func(change func(r *TaskRecord)) {
		r := base
		r.TaskID = fmt.Sprintf("j.%d", len(recs)+1)
		change(&r)
		recs = append(recs, r)
	}
	same := func(*TaskRecord) {}
	add(same)
	add(same)
	add(func(r *TaskRecord) { r.Resources = gpu })
	add(func(r *TaskRecord) { r.Resources = map[string]float64{"gpu": 2} })
	add(func(r *TaskRecord) { r.Resources = nil })
	add(same)
	add(func(r *TaskRecord) { r.Retries = 3 })
	add(func(r *TaskRecord) { r.Deterministic = false })
	add(func(r *TaskRecord) { r.OwnerNode = "n2" })
	add(func(r *TaskRecord) { r.State = "group:2" })
	add(func(r *TaskRecord) { r.Outcome = []byte{1} })
	add(func(r *TaskRecord) { r.Outcome = []byte{2} })
	add(same)
	got, want := NewTaskBatch(0), NewTaskBatch(0)
	for i := range recs {
		want.Add(&recs[i])
		got.AddArgs(&recs[i], 0, func(*ArgWriter) {})
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("AddArgs wrote\n%x\nAdd wrote\n%x", got.Bytes(), want.Bytes())
	}
}

// Writing a row into a batch with room allocates nothing: not the
// ArgWriter handed to the callback either.
func TestAddArgsAllocatesNothing(t *testing.T) {
	rec := sampleTask(1)
	rec.Outcome = nil
	b := NewTaskBatch(1 << 20)
	args := func(w *ArgWriter) {
		w.Object("o1", "10.0.0.1:7")
		w.Inline(func(dst []byte) ([]byte, bool) { return append(dst, 1, 2, 3), true })
	}
	b.AddArgs(&rec, 2, args) // the tail cache's first fill
	if n := testing.AllocsPerRun(100, func() { b.AddArgs(&rec, 2, args) }); n != 0 {
		t.Fatalf("AddArgs allocates %.1f times per row, want 0", n)
	}
}

// A group's link (PreviousResult) is written as any object argument
// would be, whether by Add from a record or by an ArgWriter.
func TestPreviousResultEncodedAsAnObject(t *testing.T) {
	rec := TaskRecord{TaskID: "j.1", Function: "f", Args: []TaskArg{{ObjectID: "j.0"}, {ObjectID: PreviousResult}, {ObjectID: "^^"}}}
	added, plain, written := NewTaskBatch(0), NewTaskBatch(0), NewTaskBatch(0)
	added.Add(&rec)
	plain.AddArgs(&rec, 3, func(w *ArgWriter) {
		w.Object("j.0", "")
		w.Object(PreviousResult, "")
		w.Object("^^", "")
	})
	written.AddArgs(&rec, 3, func(w *ArgWriter) {
		w.Object("j.0", "")
		w.PreviousResult()
		w.Object("^^", "")
	})
	if !bytes.Equal(added.Bytes(), plain.Bytes()) || !bytes.Equal(written.Bytes(), plain.Bytes()) {
		t.Fatalf("Add wrote %v, AddArgs with Object %v, with PreviousResult %v", added.Bytes(), plain.Bytes(), written.Bytes())
	}
	s := openTest(t, nil)
	must(t, s.PutTaskBatch(written.Bytes()))
	got, err := s.GetTask("j.1")
	if err != nil || !reflect.DeepEqual(got.Args, rec.Args) {
		t.Fatalf("read back %+v, %v", got.Args, err)
	}
}
