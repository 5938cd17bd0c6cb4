package gcs

import (
	"bytes"
	"encoding/hex"
	"math"
	"reflect"
	"testing"
)

// The golden tests pin the bytes this package writes to raft logs,
// snapshots and other processes (task records travel in the GCS row
// format): the fixtures were produced by the encoder before it moved onto
// internal/codec, so any change to a byte on disk or on the wire fails
// here. Each fixture is also decoded back.

// goldenRows are the rows pinned by TestGoldenRows: every row type, full
// and empty, with the value each decodes back to (empty maps and slices
// decode as nil).
var goldenRows = []struct {
	name string
	row  row
	hex  string
	back row // nil: the row itself
}{
	{"node", &NodeInfo{ID: "n1", Address: "127.0.0.1:7000", State: NodeAlive, Epoch: 1 << 40,
		ResourcesTotal: map[string]float64{"cpu": 4, "GPU": 0.5, "memory": 1 << 30}, ResourcesAvailable: map[string]float64{"cpu": -1.25},
		LastHeartbeat: -5, QueueLen: 300, Labels: map[string]string{"role": "head", "a": ""}},
		"01026e310e3132372e302e302e313a3730303005616c6976658080808080200303475055000000000000e03f036370750000000000001040066d656d6f7279000000000000d0410103637075000000000000f4bf09d8040201610004726f6c650468656164", nil},
	{"node empty", &NodeInfo{}, "01000000000000000000", nil},
	{"job", &JobInfo{ID: "job1", ProgramHash: "abc", Pipeline: "main", State: "done", Submitted: 1700000000000000000, Finished: math.MaxInt64, Error: "boom: é"},
		"01046a6f623103616263046d61696e04646f6e658080d0e2c6bfce972ffeffffffffffffffff0108626f6f6d3a20c3a9", nil},
	{"job empty", &JobInfo{}, "0100000000000000", nil},
	{"task", &TaskRecord{TaskID: "job1.2", JobID: "job1", ParentID: "job1", Seq: 127, Function: "sq",
		Args:      []TaskArg{{ObjectID: "job1.1", Location: "127.0.0.1:7001"}, {Inline: []byte{0, 1, 2, 255}}, {}},
		Resources: map[string]float64{"cpu": 1, "b": math.Inf(1)}, Retries: -3, Deterministic: true,
		OwnerNode: "n1", Outcome: []byte("w"), State: "submitted"},
		"02066a6f62312e32046a6f6231046a6f62317f02737103066a6f62312e31000e3132372e302e302e313a373030310004000102ff00000000020162000000000000f07f03637075000000000000f03f0501026e310177097375626d6974746564", nil},
	{"task empty", &TaskRecord{}, "02000000000000000000000000", nil},
	{"object", &ObjectInfo{ID: "job1.1", Size: 1 << 33, Locations: []string{"n2", "n1", ""}}, "01066a6f62312e31808080804003026e32026e3100", nil},
	{"object empty", &ObjectInfo{}, "01000000", nil},
	{"actor", &ActorInfo{ID: "job1.4", JobID: "job1", Class: "Counter", Node: "n3", State: "alive",
		Restarts: -1, MaxRestarts: 3, CallLogPos: 1 << 20, Checkpoint: "job1.4.ck1"}, "01066a6f62312e34046a6f623107436f756e746572026e3305616c69766501068080400a6a6f62312e342e636b31", nil},
	{"actor empty", &ActorInfo{}, "01000000000000000000", nil},
}

func TestGoldenRows(t *testing.T) {
	for _, g := range goldenRows {
		got := encodeRow(g.row)
		checkGolden(t, g.name, got, g.hex)
		fresh := reflect.New(reflect.TypeOf(g.row).Elem()).Interface().(row)
		if err := decodeRow(mustHex(t, g.hex), fresh); err != nil {
			t.Errorf("%s: decode fixture: %v", g.name, err)
			continue
		}
		if want := g.back; want != nil && !reflect.DeepEqual(fresh, want) || want == nil && !reflect.DeepEqual(fresh, normalRow(g.row)) {
			t.Errorf("%s: fixture decodes to %+v", g.name, fresh)
		}
	}
}

// normalRow is r as decoding returns it: empty maps and slices are nil.
func normalRow(r row) row {
	switch v := r.(type) {
	case *NodeInfo:
		c := *v
		c.ResourcesTotal, c.ResourcesAvailable, c.Labels = nilIfEmpty(c.ResourcesTotal), nilIfEmpty(c.ResourcesAvailable), nilIfEmpty(c.Labels)
		return &c
	case *TaskRecord:
		c := *v
		c.Resources = nilIfEmpty(c.Resources)
		if len(c.Args) == 0 {
			c.Args = nil
		}
		if len(c.Outcome) == 0 {
			c.Outcome = nil
		}
		c.Args = append([]TaskArg(nil), c.Args...)
		for i := range c.Args {
			if len(c.Args[i].Inline) == 0 {
				c.Args[i].Inline = nil
			}
		}
		return &c
	case *ObjectInfo:
		c := *v
		if len(c.Locations) == 0 {
			c.Locations = nil
		}
		return &c
	}
	return r
}

func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// A task row of version 1 (before argument locations) still reads.
func TestGoldenTaskRowVersion1(t *testing.T) {
	const v1 = "01" + "0174" + "016a" + "0170" + "02" + "0166" + "02" + "016f00" + "000107" +
		"01" + "03637075" + "000000000000f03f" + "02" + "01" + "016e" + "0178" + "0173"
	var got TaskRecord
	if err := decodeRow(mustHex(t, v1), &got); err != nil {
		t.Fatal(err)
	}
	want := TaskRecord{TaskID: "t", JobID: "j", ParentID: "p", Seq: 2, Function: "f",
		Args: []TaskArg{{ObjectID: "o"}, {Inline: []byte{7}}}, Resources: map[string]float64{"cpu": 1},
		Retries: 1, Deterministic: true, OwnerNode: "n", Outcome: []byte("x"), State: "s"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("version 1 row decodes to %+v", got)
	}
}

func TestGoldenMarshalBinary(t *testing.T) {
	rec := goldenRows[4].row.(*TaskRecord)
	b, _ := rec.MarshalBinary()
	checkGolden(t, "task MarshalBinary", b, goldenRows[4].hex)
	var got TaskRecord
	if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(&got, normalRow(rec)) {
		t.Fatalf("UnmarshalBinary: %+v, %v", got, err)
	}
}

// goldenBatch holds one command of every op, as a raft log entry.
var goldenBatch = []command{
	{op: opPut, table: TableNodes, key: "n1", value: []byte{1, 2, 3}},
	{op: opPutIfAbsent, table: TableJobs, key: "job1", value: []byte("row")},
	{op: opDelete, table: TableTasks, key: "job1.2"},
	{op: opMarkDead, table: TableNodes, key: "n2"},
	{op: opAddLocation, table: TableObjects, key: "job1.1", arg: "n1", size: 1 << 40},
	{op: opRemoveLocation, table: TableObjects, key: "job1.1", arg: "n1"},
	{op: opRemoveNodeEverywhere, table: TableNodes, arg: "n3"},
	{op: opDeletePrefix, table: TableActors, key: "job1."},
	{op: opPut, table: TablePrograms, key: "", value: nil, size: -7},
}

const goldenBatchHex = "01090100026e310301020300000201046a6f623103726f7700000303066a6f62312e320000000400026e320000000504066a6f62312e3100026e318080808080400604066a6f62312e3100026e310007000000026e33000805056a6f62312e00000001020000000d"

func TestGoldenBatch(t *testing.T) {
	checkGolden(t, "batch", encodeBatch(goldenBatch), goldenBatchHex)
	got, err := decodeBatch(mustHex(t, goldenBatchHex))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, goldenBatch) {
		t.Fatalf("batch fixture decodes to %+v", got)
	}
	checkGolden(t, "empty batch", encodeBatch(nil), "0100")
}

// A snapshot written before the stats table existed (six tables) still
// reads: the stats table is empty.
func TestSnapshotBeforeStatsTable(t *testing.T) {
	old := "0101066b6e6f6465730200ff01056b6a6f62730201ff01096b70726f6772616d730202ff01066b7461736b730203ff01086b6f626a656374730204ff01076b6163746f72730205ff"
	got, err := readTables(bytes.NewReader(mustHex(t, old)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rows[TableActors]) != 1 || len(got.rows[TableStats]) != 0 {
		t.Fatalf("old snapshot reads as %+v", got.rows)
	}
}

// A snapshot written before the Jobs API's tables existed (seven
// tables) still reads: those tables are empty.
func TestSnapshotBeforeAPIJobTables(t *testing.T) {
	old := "0101066b6e6f6465730200ff01056b6a6f62730201ff01096b70726f6772616d730202ff01066b7461736b730203ff01086b6f626a656374730204ff01076b6163746f72730205ff01066b73746174730206ff"
	got, err := readTables(bytes.NewReader(mustHex(t, old)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.rows[TableStats]) != 1 || len(got.rows[TableAPIJobs]) != 0 || len(got.rows[TableAPIJobData]) != 0 {
		t.Fatalf("old snapshot reads as %+v", got.rows)
	}
}

// The snapshot format, with one row in each table (map order would make
// more rows nondeterministic) and with no rows at all.
func TestGoldenSnapshot(t *testing.T) {
	full := newTables()
	for i, name := range tableNames {
		full.rows[name]["k"+name] = []byte{byte(i), 0xff}
	}
	for _, tc := range []struct {
		name string
		t    *tables
		hex  string
	}{{"snapshot", full, "0101066b6e6f6465730200ff01056b6a6f62730201ff01096b70726f6772616d730202ff01066b7461736b730203ff01086b6f626a656374730204ff01076b6163746f72730205ff01066b73746174730206ff01086b6170696a6f62730207ff010b6b6170696a6f62646174610208ff010a6b7365727665617070730209ff010b6b6163746f726e616d6573020aff"}, {"empty snapshot", newTables(), "010000000000000000000000"}} {
		var buf bytes.Buffer
		if err := writeTables(&buf, tc.t); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, tc.name, buf.Bytes(), tc.hex)
		got, err := readTables(bytes.NewReader(mustHex(t, tc.hex)))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got.rows, tc.t.rows) {
			t.Fatalf("%s decodes to %+v", tc.name, got.rows)
		}
	}
}

func checkGolden(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("%s: encoding changed:\n got %s\nwant %s", name, h, want)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
