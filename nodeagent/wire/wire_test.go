package wire

import (
	"errors"
	"reflect"
	"testing"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/gcs"
)

func TestWireRoundTrips(t *testing.T) {
	sub := &Submit{Kind: SubmitMethod, ID: "job1.3", ActorID: "job1.1", Owner: "127.0.0.1:1", ProgramHash: "abc",
		Function: "add", Args: []Arg{{Inline: []byte{1, 3}}, {Inline: []byte{}, ObjectID: "job1.2", Location: "127.0.0.1:2"}},
		Resources: map[string]float64{"cpu": 1, "gpu": 0.5}, Output: "127.0.0.1:3", Lineage: []byte{9}, State: []byte{7}, Replay: []byte{5}}
	got, err := DecodeSubmit(sub.Encode())
	if err != nil || !reflect.DeepEqual(got, sub) {
		t.Fatalf("submit round trip: %+v, %v", got, err)
	}
	done := &Done{ID: "job1.3", Location: "127.0.0.1:2", Size: 5, Err: &exec.Error{Kind: "task", Msg: "boom",
		Stack: []exec.Frame{{Name: "f", Node: "n1"}}, Cause: &exec.Error{Kind: "user", Msg: "inner"}},
		Actor: "job1.1~2", Seq: 7, Resubmit: true, Gone: true}
	gotDone, err := DecodeDone(done.Encode())
	if err != nil || gotDone.Err.Msg != "boom" || gotDone.Err.Cause.Msg != "inner" || gotDone.Err.Stack[0].Node != "n1" || gotDone.Size != 5 ||
		gotDone.Actor != "job1.1~2" || gotDone.Seq != 7 || !gotDone.Resubmit || !gotDone.Gone {
		t.Fatalf("done round trip: %+v, %v", gotDone, err)
	}
	recs := []gcs.TaskRecord{{TaskID: "job1.1", ParentID: "job1", Function: "sq", Args: []gcs.TaskArg{{ObjectID: "x"}},
		Resources: map[string]float64{"cpu": 1}, Deterministic: true}}
	gotRecs, err := DecodeRecords(EncodeRecords(recs))
	if err != nil || len(gotRecs) != 1 || gotRecs[0].TaskID != "job1.1" || gotRecs[0].Args[0].ObjectID != "x" {
		t.Fatalf("records round trip: %+v, %v", gotRecs, err)
	}
}

// Malformed message bodies are ErrMalformed, never panics nor another
// error.
func FuzzDecodeMessages(f *testing.F) {
	f.Add((&Submit{ID: "a", Args: []Arg{{ObjectID: "b"}}}).Encode())
	f.Add((&Done{ID: "a", Err: &exec.Error{Msg: "x"}}).Encode())
	f.Add(EncodeRecords([]gcs.TaskRecord{{TaskID: "t"}}))
	f.Add([]byte{1, 1, 9}) // a record whose row is damaged
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s of %x: %v is not ErrMalformed", what, b, err)
			}
		}
		_, err := DecodeSubmit(b)
		check("DecodeSubmit", err)
		_, err = DecodeDone(b)
		check("DecodeDone", err)
		_, err = DecodeRecords(b)
		check("DecodeRecords", err)
		_, err = DecodeStrings(b)
		check("DecodeStrings", err)
		_, _, _, _, err = DecodeRegister(b)
		check("DecodeRegister", err)
		_, err = DecodeHeartbeat(b)
		check("DecodeHeartbeat", err)
		_, err = DecodePlaceResults(b, 1)
		check("DecodePlaceResults", err)
		check("EachSubmit", EachSubmit(b, func([]byte) error { return nil }))
	})
}
