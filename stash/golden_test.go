package stash

import (
	"encoding/hex"
	"math"
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/gcs"
)

// TestGoldenBundles pins the bytes of the bundle format (lineage travels
// in it between processes): the fixtures were produced by the encoder
// before it moved onto internal/codec. Each is also decoded back.
func TestGoldenBundles(t *testing.T) {
	full := Bundle{
		Records: []RecordEntry{
			{Record: gcs.TaskRecord{TaskID: "job1.2", JobID: "job1", ParentID: "job1", Seq: 300, Function: "sq",
				Args:      []gcs.TaskArg{{ObjectID: "job1.1", Location: "127.0.0.1:7001"}, {Inline: []byte{0, 255}}},
				Resources: map[string]float64{"cpu": 1, "GPU": 0.25, "m": -2}, Retries: -1, Deterministic: true,
				OwnerNode: "n1", Outcome: []byte("out"), State: "submitted"}, Hops: 3},
			{Record: gcs.TaskRecord{TaskID: "x", Retries: math.MaxInt32}, Hops: maxHops},
		},
		Outcomes: []OutcomeEntry{
			{Outcome: Outcome{TaskID: "job1.1", Seq: 4, Kind: KindActorOrder, Data: []byte{0, 1}}, Hops: 7},
			{Outcome: Outcome{TaskID: "job1.3", Kind: KindIO}},
		},
		Committed: []string{"job1.0", "job1.0#1", ""},
	}
	// Encoding clamps what the wire cannot carry.
	clamped := full
	clamped.Records = append([]RecordEntry(nil), full.Records...)
	clamped.Records[1].Record.Retries = math.MaxInt32 + 10
	clamped.Records[1].Hops = maxHops + 10
	const fullHex = "4c53020203066a6f62312e32046a6f6231046a6f6231ac0202737102066a6f62312e31000e3132372e302e302e313a37303031000200ff000303475055000000000000d03f03637075000000000000f03f016d00000000000000c00101026e31036f7574097375626d69747465648080040178000000000000feffffff0f000000000207066a6f62312e31040b6163746f725f6f7264657202000100066a6f62312e330002696f0003066a6f62312e30086a6f62312e30233100"
	for _, g := range []struct {
		name string
		b    Bundle
		hex  string
		back Bundle
	}{
		{"empty", Bundle{}, "4c5302000000", Bundle{}},
		{"full", full, fullHex, full},
		{"clamped", clamped, fullHex, full},
		{"committed only", Bundle{Committed: []string{"a"}}, "4c53020000010161", Bundle{Committed: []string{"a"}}},
	} {
		if h := hex.EncodeToString(g.b.Encode()); h != g.hex {
			t.Errorf("%s: encoding changed:\n got %s\nwant %s", g.name, h, g.hex)
		}
		if h := hex.EncodeToString(g.b.AppendEncode([]byte{0xaa})); h != "aa"+g.hex {
			t.Errorf("%s: AppendEncode = %s", g.name, h)
		}
		p, err := hex.DecodeString(g.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBundle(p)
		if err != nil {
			t.Errorf("%s: decode fixture: %v", g.name, err)
			continue
		}
		if !reflect.DeepEqual(got, g.back) {
			t.Errorf("%s: fixture decodes to %+v", g.name, got)
		}
	}
}
