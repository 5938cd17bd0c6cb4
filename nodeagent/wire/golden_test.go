package wire

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/lang"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/resources"
)

// The golden tests pin the bytes of the message bodies node agents,
// drivers and heads exchange: the fixtures were produced by the encoders
// before they moved onto internal/codec. Each fixture is also decoded back.

func TestWireGoldenSubmit(t *testing.T) {
	full := &Submit{Kind: SubmitMethod, ID: "job1.3", ActorID: "job1.1~2", Owner: "127.0.0.1:1", ProgramHash: "abc",
		Function: "add", Args: []Arg{{Inline: []byte{1, 3}}, {Inline: []byte{}, ObjectID: "job1.2", Location: "127.0.0.1:2"}},
		Resources: map[string]float64{"cpu": 1, "GPU": 0.5, "memory": 1 << 30}, Output: "127.0.0.1:3",
		Lineage: []byte{9}, State: []byte{7, 8}, Replay: []byte{5}}
	empty := &Submit{Kind: SubmitStop}
	grouped := &Submit{Kind: SubmitTask, ID: "go.1.3", Owner: "127.0.0.1:1", ProgramHash: "abc", Function: "step",
		Args: []Arg{{Inline: []byte{}, ObjectID: "job1.2", Location: "127.0.0.1:2"}}, Resources: map[string]float64{},
		Lineage: []byte{}, State: []byte{}, Replay: []byte{}, Group: "go.1.1"}
	for _, g := range []struct {
		name string
		msg  *Submit
		hex  string
		back *Submit
	}{
		{"full", full, "02066a6f62312e33086a6f62312e317e320b3132372e302e302e313a31036162630361646402020103000000066a6f62312e320b3132372e302e302e313a320303475055000000000000e03f03637075000000000000f03f066d656d6f7279000000000000d0410b3132372e302e302e313a3301090207080105", full},
		// Empty byte strings decode as empty, not nil, and the resource
		// map as an empty map.
		{"empty", empty, "040000000000000000000000", &Submit{Kind: SubmitStop, Resources: map[string]float64{}, Lineage: []byte{}, State: []byte{}, Replay: []byte{}}},
		// A call of a group carries the group's name after the fields
		// above; a message without one ends where it did before.
		{"grouped", grouped, "0006676f2e312e33000b3132372e302e302e313a310361626304737465700100066a6f62312e320b3132372e302e302e313a32000000000006676f2e312e31", grouped},
	} {
		checkWireGolden(t, "submit "+g.name, g.msg.Encode(), g.hex)
		got, err := DecodeSubmit(wireHex(t, g.hex))
		if err != nil || !reflect.DeepEqual(got, g.back) {
			t.Errorf("submit %s: fixture decodes to %+v, %v", g.name, got, err)
		}
	}
	checkWireGolden(t, "one", One(full), "017a02066a6f62312e33086a6f62312e317e320b3132372e302e302e313a31036162630361646402020103000000066a6f62312e320b3132372e302e302e313a320303475055000000000000e03f03637075000000000000f03f066d656d6f7279000000000000d0410b3132372e302e302e313a3301090207080105")
	checkWireGolden(t, "count", EncodeSubmits(make([][]byte, 300)), "ac02"+strings.Repeat("00", 300))
}

func TestWireGoldenDone(t *testing.T) {
	errFull := &exec.Error{Kind: "task", Msg: "boom", Pos: lang.Position{Filename: "main.rf", Line: 12, Column: 200},
		Node: "n1", Stack: []exec.Frame{{Pos: lang.Position{Filename: "lib.rf", Line: 3, Column: 4}, Name: "f", Node: "n2"}, {Name: "g"}},
		Cause: &exec.Error{Kind: "user", Msg: "inner"}}
	for _, g := range []struct {
		name string
		msg  *Done
		hex  string
		back *Done
	}{
		{"value", &Done{ID: "job1.3", Inline: []byte{4, 5}, Size: 2, Actor: "job1.1~2", Seq: 1 << 35}, "066a6f62312e33020405000400086a6f62312e317e328080808080010000", nil},
		{"located", &Done{ID: "job1.4", Location: "127.0.0.1:2", Size: -1, Resubmit: true, Gone: true}, "066a6f62312e34000b3132372e302e302e313a32010000000101", nil},
		{"error", &Done{ID: "job1.5", Err: errFull}, "066a6f62312e3500000001047461736b04626f6f6d076d61696e2e72660cc801026e3102066c69622e726603040166026e3200000001670001047573657205696e6e657200000000000000000000", nil},
		{"empty error", &Done{Err: &exec.Error{}}, "0000000001000000000000000000000000", nil},
		{"measured", &Done{ID: "job1.6", RunNs: 12345}, "066a6f62312e360000000000000000f2c001", nil},
	} {
		checkWireGolden(t, "done "+g.name, g.msg.Encode(), g.hex)
		got, err := DecodeDone(wireHex(t, g.hex))
		want := g.back
		if want == nil {
			want = g.msg
			if want.Inline == nil {
				c := *want
				c.Inline = []byte{}
				want = &c
			}
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("done %s: fixture decodes to %+v, %v", g.name, got, err)
		}
	}
}

func TestWireGoldenStringsAndRecords(t *testing.T) {
	for _, g := range []struct {
		name string
		ss   []string
		hex  string
	}{{"none", nil, "00"}, {"some", []string{"n1", "", "127.0.0.1:7000", "é"}, "04026e31000e3132372e302e302e313a3730303002c3a9"}} {
		checkWireGolden(t, "strings "+g.name, EncodeStrings(g.ss...), g.hex)
		got, err := DecodeStrings(wireHex(t, g.hex))
		if err != nil || !reflect.DeepEqual(got, g.ss) {
			t.Errorf("strings %s: fixture decodes to %q, %v", g.name, got, err)
		}
	}
	recs := []gcs.TaskRecord{
		{TaskID: "job1.1", JobID: "job1", ParentID: "job1", Function: "sq", Args: []gcs.TaskArg{{ObjectID: "x", Location: "l"}, {Inline: []byte{1}}},
			Resources: map[string]float64{"cpu": 1}, Deterministic: true, Retries: 3, OwnerNode: "n1", State: "submitted"},
		{TaskID: "job1.2"},
	}
	const recsHex = "023d02066a6f62312e31046a6f6231046a6f62310002737102017800016c000101000103637075000000000000f03f0601026e3100097375626d69747465641302066a6f62312e320000000000000000000000"
	checkWireGolden(t, "records", EncodeRecords(recs), recsHex)
	got, err := DecodeRecords(wireHex(t, recsHex))
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Errorf("records: fixture decodes to %+v, %v", got, err)
	}
	checkWireGolden(t, "no records", EncodeRecords(nil), "00")
}

func TestWireGoldenRegisterAndHeartbeat(t *testing.T) {
	total := map[string]float64{"cpu": 8, "memory": 1 << 33, "gpu": 1}
	const regHex = "026e310e3132372e302e302e313a373030300303637075000000000000204003677075000000000000f03f066d656d6f7279000000000000004201"
	checkWireGolden(t, "register", EncodeRegister("n1", "127.0.0.1:7000", total, true), regHex)
	id, addr, gotTotal, isHead, err := DecodeRegister(wireHex(t, regHex))
	if err != nil || id != "n1" || addr != "127.0.0.1:7000" || !reflect.DeepEqual(gotTotal, total) || !isHead {
		t.Errorf("register: fixture decodes to %s %s %v %v, %v", id, addr, gotTotal, isHead, err)
	}
	checkWireGolden(t, "register empty", EncodeRegister("", "", nil, false), "00000000")

	free, err := resources.FromMap(map[string]float64{"cpu": 2.5, "memory": 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	checkWireGolden(t, "heartbeat", EncodeHeartbeat("n2", 1<<40, placement.NodeState{Available: free, QueueLen: 130, Running: 2}, 7), "026e3280808080802003036370750000000000000440036770750000000000000000066d656d6f7279000000000000304182010207")
	checkWireGolden(t, "heartbeat empty", EncodeHeartbeat("", 0, placement.NodeState{}, 0), "000003036370750000000000000000036770750000000000000000066d656d6f72790000000000000000000000")
}

func checkWireGolden(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("%s: encoding changed:\n got %s\nwant %s", name, h, want)
	}
}

func wireHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
