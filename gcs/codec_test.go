package gcs

import (
	"bytes"
	"reflect"
	"testing"
)

type bytesBuffer = bytes.Buffer

func TestRowRoundTrip(t *testing.T) {
	rows := []row{
		&NodeInfo{ID: "n", Address: "a", State: NodeAlive, Epoch: 1 << 40, ResourcesTotal: map[string]float64{"CPU": 1.5}, LastHeartbeat: -5, QueueLen: 3, Labels: map[string]string{"k": "v"}},
		&JobInfo{ID: "j", ProgramHash: "h", Pipeline: "p", State: "s", Submitted: 1, Finished: 2, Error: "e"},
		func() row { r := sampleTask(3); return &r }(),
		&ObjectInfo{ID: "o", Size: 1 << 33, Locations: []string{"a", "b"}},
		&ActorInfo{ID: "a", Class: "C", Restarts: -1, CallLogPos: 9},
	}
	for _, r := range rows {
		b := encodeRow(r)
		fresh := reflect.New(reflect.TypeOf(r).Elem()).Interface().(row)
		if err := decodeRow(b, fresh); err != nil {
			t.Fatalf("%T: %v", r, err)
		}
		if !reflect.DeepEqual(fresh, r) {
			t.Fatalf("%T round trip: got %+v want %+v", r, fresh, r)
		}
		// Every truncation must fail cleanly, never panic.
		for i := 0; i < len(b); i++ {
			if err := decodeRow(b[:i], fresh); err == nil {
				t.Fatalf("%T truncated to %d bytes decoded without error", r, i)
			}
		}
	}
}

func TestBatchRoundTrip(t *testing.T) {
	cmds := []command{
		{op: opPut, table: TableNodes, key: "n", value: []byte{1, 2}},
		{op: opAddLocation, table: TableObjects, key: "o", arg: "n", size: 9},
		{op: opRemoveNodeEverywhere, table: TableObjects, arg: "n"},
	}
	b := encodeBatch(cmds)
	got, err := decodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].arg != "n" || got[1].size != 9 || !bytes.Equal(got[0].value, []byte{1, 2}) {
		t.Fatalf("round trip = %+v", got)
	}
	for i := 0; i < len(b); i++ {
		if _, err := decodeBatch(b[:i]); err == nil {
			t.Fatalf("batch truncated to %d bytes decoded without error", i)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch([]command{{op: opPut, table: TableJobs, key: "j", value: []byte("x")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmds, err := decodeBatch(b)
		if err != nil {
			return
		}
		tb := newTables()
		for i := range cmds {
			applyCommand(tb, &cmds[i], func(change) {})
		}
	})
}
