package gcs

import (
	"fmt"
	"reflect"
	"testing"
)

func openDir(t *testing.T, dir string, mutate func(*Config)) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Shards = 2
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	node := NodeInfo{ID: "n1", State: NodeAlive, ResourcesTotal: map[string]float64{"CPU": 8}}
	must(t, s.PutNode(node))
	hash, f := s.PutProgram([]byte("src"))
	must(t, f)
	must(t, s.PutTasks([]TaskRecord{sampleTask(1), sampleTask(2)}))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openDir(t, dir, nil)
	defer s.Close()
	got, err := s.GetNode("n1")
	if err != nil || !reflect.DeepEqual(got, node) {
		t.Fatalf("after reopen GetNode = %+v, %v", got, err)
	}
	if src, err := s.GetProgram(hash); err != nil || string(src) != "src" {
		t.Fatalf("after reopen GetProgram = %q, %v", src, err)
	}
	if task, err := s.GetTask("t0002"); err != nil || !reflect.DeepEqual(task, sampleTask(2)) {
		t.Fatalf("after reopen GetTask = %+v, %v", task, err)
	}
	if err := s.PutNode(NodeInfo{ID: "n2"}).Error(); err != nil {
		t.Fatalf("write after reopen: %v", err)
	}
}

// TestSnapshotCompactsAndRestores forces a snapshot, checks that the log
// was truncated, then reopens from the snapshot plus the log after it.
func TestSnapshotCompactsAndRestores(t *testing.T) {
	dir := t.TempDir()
	small := func(c *Config) { c.TrailingLogs = 10; c.BatchMaxItems = 8 }
	s := openDir(t, dir, small)
	var fs []*Future
	for i := 0; i < 500; i++ {
		fs = append(fs, s.AddLocation(fmt.Sprintf("o%d", i), "n1", int64(i+1)))
	}
	if err := WaitAll(fs...); err != nil {
		t.Fatal(err)
	}
	if err := s.Snapshot(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	for _, sh := range s.shards {
		if sh.raft.Stats()["last_snapshot_index"] == "0" {
			t.Fatalf("shard %d: no snapshot taken", sh.index)
		}
	}
	must(t, s.AddLocation("after", "n2", 7)) // lands in the log after the snapshot
	logs := firstIndexes(t, dir, s)
	for i, fi := range logs {
		if fi <= 1 {
			t.Fatalf("shard %d: log not compacted (first index %d)", i, fi)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openDir(t, dir, small)
	defer s.Close()
	for _, id := range []string{"o0", "o499", "after"} {
		o, err := s.GetObject(id)
		if err != nil || len(o.Locations) != 1 {
			t.Fatalf("after restore GetObject(%s) = %+v, %v", id, o, err)
		}
	}
	if o, _ := s.GetObject("o41"); o.Size != 42 {
		t.Fatalf("o41 size = %d, want 42", o.Size)
	}
}

// firstIndexes returns the first index of each shard's raft log.
func firstIndexes(t *testing.T, dir string, s *Store) []uint64 {
	t.Helper()
	var out []uint64
	for _, sh := range s.shards {
		for _, c := range sh.closers {
			if ls, ok := c.(interface{ FirstIndex() (uint64, error) }); ok {
				fi, err := ls.FirstIndex()
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fi)
			}
		}
	}
	if len(out) != len(s.shards) {
		t.Fatalf("found %d log stores in %s, want %d", len(out), dir, len(s.shards))
	}
	return out
}

// TestSnapshotRoundTrip checks that the snapshot format reads back what it wrote.
func TestSnapshotRoundTrip(t *testing.T) {
	tb := newTables()
	tb.rows[TableNodes]["n1"] = encodeRow(&NodeInfo{ID: "n1"})
	tb.rows[TablePrograms]["h"] = []byte("source")
	tb.rows[TableTasks]["t"] = encodeRow(&TaskRecord{TaskID: "t"})
	var buf bytesBuffer
	if err := writeTables(&buf, tb); err != nil {
		t.Fatal(err)
	}
	got, err := readTables(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.rows, tb.rows) {
		t.Fatalf("round trip: %v != %v", got.rows, tb.rows)
	}
}

// TestCloseCommitsQueuedWrites checks that asynchronous writes made just
// before Close are committed, not dropped.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir, nil)
	var fs []*Future
	for i := 0; i < 300; i++ {
		fs = append(fs, s.PutTask(sampleTask(i)))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WaitAll(fs...); err != nil {
		t.Fatalf("write made before Close: %v", err)
	}
	s = openDir(t, dir, nil)
	defer s.Close()
	if _, err := s.GetTask("t0299"); err != nil {
		t.Fatalf("last write before Close lost: %v", err)
	}
}
